import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { errorCatalogue } from './error-catalogue.js';

// docs/errors.md holds the catalogue as a table between two markers. This test fails when the table differs
// from `errorCatalogue`; `UPDATE_ERROR_DOCS=1` rewrites it (then review the diff).
const DOC = fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url));
const BEGIN = '<!-- error-catalogue:begin (generated from packages/core/src/errors/error-catalogue.ts) -->';
const END = '<!-- error-catalogue:end -->';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(): string {
  const rows = Object.entries(errorCatalogue).map(
    ([code, doc]) =>
      `| \`${code}\` | ${doc.retryable ? 'yes' : 'no'} | ${cell(doc.summary)} | ${cell(doc.action)}${doc.either ? ` Retryable: ${cell(doc.either)}` : ''} |`,
  );
  return ['| Code | Retryable | What happened | What to do |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

describe('docs/errors.md', () => {
  it('lists every code of the catalogue, as the catalogue documents it', () => {
    const text = readFileSync(DOC, 'utf8');
    const begin = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    assert.ok(begin >= 0 && end > begin, `docs/errors.md lacks the markers ${BEGIN} … ${END}`);
    const current = text.slice(begin + BEGIN.length, end).trim();
    const wanted = table();
    if (current !== wanted && process.env['UPDATE_ERROR_DOCS'] === '1') {
      writeFileSync(DOC, `${text.slice(0, begin + BEGIN.length)}\n${wanted}\n${text.slice(end)}`);
      return;
    }
    for (const code of Object.keys(errorCatalogue)) {
      assert.ok(
        current.includes(`| \`${code}\` |`),
        `docs/errors.md lacks ${code}: run with UPDATE_ERROR_DOCS=1`,
      );
    }
    assert.equal(
      current,
      wanted,
      'docs/errors.md differs from errorCatalogue: run this test with UPDATE_ERROR_DOCS=1',
    );
  });
});
