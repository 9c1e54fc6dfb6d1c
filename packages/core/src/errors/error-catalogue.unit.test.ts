import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { errorCatalogue, isSluiceErrorCode } from './error-catalogue.js';
import { errorCode, isRetryable, SluiceError } from './sluice-error.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** `SLUICE_*` names that are environment variables, not error codes, where they appear in source. */
const ENVIRONMENT_VARIABLES = new Set(['SLUICE_LOG_LEVEL', 'SLUICE_DB']);

/** Every `.ts` file under `packages/<name>/src`, tests and test support excluded. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ts$/.test(entry.name) && !/\.test\.ts$|\.test-support\.ts$|\.d\.ts$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  for (const pkg of readdirSync(join(ROOT, 'packages'), { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue;
    const src = join(ROOT, 'packages', pkg.name, 'src');
    try {
      readdirSync(src);
    } catch {
      continue;
    }
    walk(src);
  }
  return files;
}

/** `'SLUICE_X'`, `"SLUICE_X"` and `` `SLUICE_X` `` (also in comments), except environment lookups. */
function codesIn(text: string): string[] {
  const codes: string[] = [];
  for (const m of text.matchAll(/(['"`])(SLUICE_[A-Z0-9_]+)\1/g)) {
    const before = text.slice(Math.max(0, (m.index ?? 0) - 4), m.index);
    if (before.endsWith('env[')) continue; // process.env['SLUICE_…']
    if (ENVIRONMENT_VARIABLES.has(m[2] as string)) continue;
    codes.push(m[2] as string);
  }
  return codes;
}

describe('the error catalogue', () => {
  it('documents every SLUICE_ code used in packages/*/src', () => {
    const files = sourceFiles();
    assert.ok(files.length > 100, `found only ${files.length} source files under ${ROOT}packages/*/src`);
    const missing: string[] = [];
    const used = new Set<string>();
    let occurrences = 0;
    for (const file of files) {
      for (const code of codesIn(readFileSync(file, 'utf8'))) {
        occurrences++;
        used.add(code);
        if (!isSluiceErrorCode(code)) missing.push(`${relative(ROOT, file)}: ${code}`);
      }
    }
    // The scan must not pass vacuously: Sluice throws dozens of codes from over a hundred places.
    assert.ok(used.size >= 40, `found only ${used.size} distinct codes: ${[...used].join(', ')}`);
    assert.ok(occurrences >= 100, `found only ${occurrences} code literals`);
    assert.deepEqual(missing, [], `codes missing from errorCatalogue:\n${missing.join('\n')}`);
  });

  it('the scan sees the ways codes are written, and skips environment lookups', () => {
    const text = [
      "throw new SluiceError('SLUICE_BROKER_UNAVAILABLE', 'x');",
      '  "SLUICE_BUSY",',
      ' * fails with `SLUICE_NOT_A_CODE` when',
      "process.env['SLUICE_TEST_PG_URL']",
    ].join('\n');
    assert.deepEqual(codesIn(text), ['SLUICE_BROKER_UNAVAILABLE', 'SLUICE_BUSY', 'SLUICE_NOT_A_CODE']);
    assert.equal(isSluiceErrorCode('SLUICE_NOT_A_CODE'), false);
  });

  it('every entry is documented: a summary and an action, ending with a full stop', () => {
    for (const [code, doc] of Object.entries(errorCatalogue)) {
      assert.match(code, /^SLUICE_[A-Z0-9_]+$/);
      assert.equal(typeof doc.retryable, 'boolean', code);
      for (const field of ['summary', 'action'] as const) {
        assert.ok(doc[field].trim().length >= 10, `${code}.${field} is empty or too short`);
        assert.match(doc[field], /[.)]$/, `${code}.${field} should be a sentence`);
      }
    }
  });
});

describe('SluiceError and isRetryable', () => {
  it("a SluiceError's retryable defaults from the catalogue", () => {
    assert.equal(new SluiceError('SLUICE_BROKER_UNAVAILABLE', 'x').retryable, true);
    assert.equal(new SluiceError('SLUICE_DATABASE_UNAVAILABLE', 'x').retryable, true);
    assert.equal(new SluiceError('SLUICE_BUSY', 'x').retryable, true);
    assert.equal(new SluiceError('SLUICE_INVALID_OPTION', 'x').retryable, false);
    assert.equal(new SluiceError('SLUICE_HANDLER_REJECTED', 'x').retryable, false);
    for (const [code, doc] of Object.entries(errorCatalogue)) {
      assert.equal(new SluiceError(code as keyof typeof errorCatalogue, 'x').retryable, doc.retryable, code);
    }
  });

  it("one answer for errors that are not Sluice's: retryable, as SLUICE_HANDLER_ERROR documents", () => {
    assert.equal(isRetryable(new TypeError('x is undefined')), true);
    assert.equal(isRetryable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isRetryable('a string'), true);
    assert.equal(isRetryable(undefined), true);
    assert.equal(isRetryable(null), true);
    assert.equal(errorCatalogue.SLUICE_HANDLER_ERROR.retryable, true);
    assert.equal(errorCode(new TypeError('x')), 'SLUICE_HANDLER_ERROR');
  });

  it('a SluiceError answers with its own retryable, also one from another copy of @sluice/core', () => {
    assert.equal(isRetryable(new SluiceError('SLUICE_CLOSED', 'closed')), false);
    assert.equal(isRetryable(new SluiceError('SLUICE_SOURCE_BUSY', 'busy')), true);
    const foreign = Object.assign(new Error('x'), { code: 'SLUICE_CLOSED', retryable: false });
    assert.equal(isRetryable(foreign), false);
    // A driver's own `retryable` field is not Sluice's answer.
    assert.equal(isRetryable(Object.assign(new Error('x'), { code: 'E_DRIVER', retryable: false })), true);
  });
});
