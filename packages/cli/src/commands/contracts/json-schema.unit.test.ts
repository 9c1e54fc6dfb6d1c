import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toJsonSchema } from '@sluice/core';
import { loadContracts } from '../../context.js';
import { EXAMPLES, sluiceInProcess, tempDir } from './examples.test-support.js';

describe('sluice contracts json-schema', () => {
  it('writes DIR/<type>.v<N>.schema.json per version, each toJsonSchema of its contract', async () => {
    const dir = tempDir('json-schema');
    const code = await sluiceInProcess([
      'contracts',
      'json-schema',
      '--contracts',
      EXAMPLES['legacy-courses'].contracts,
      '--out',
      dir,
    ]);
    assert.equal(code, 0);
    const contracts = await loadContracts(EXAMPLES['legacy-courses'].contracts);
    assert.deepEqual(
      readdirSync(dir).sort(),
      contracts.map((c) => `${c.type}.v${c.version}.schema.json`).sort(),
    );
    for (const c of contracts) {
      const written = JSON.parse(readFileSync(join(dir, `${c.type}.v${c.version}.schema.json`), 'utf8'));
      assert.deepEqual(written, toJsonSchema(c));
      assert.equal(written.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(written.$id, c.dataschema);
    }
  });

  it('needs --out DIR (exit 2)', async () => {
    assert.equal(
      await sluiceInProcess(['contracts', 'json-schema', '--contracts', EXAMPLES.enrollments.contracts]),
      2,
    );
  });
});
