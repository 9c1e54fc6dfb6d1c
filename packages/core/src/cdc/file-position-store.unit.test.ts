import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SluiceError } from '../errors.js';
import { FilePositionStore } from './file-position-store.js';

// Saving, loading, exactness and survival across instances: runPositionStoreConformance
// (packages/testing/src/file-position-store-conformance.unit.test.ts).

test('FilePositionStore refuses a corrupt file instead of starting sources over', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-pos-')), 'positions.json');
  await writeFile(path, '{"binlog:orders": 12');
  await assert.rejects(new FilePositionStore(path).load('binlog:orders'), (err: unknown) => {
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'SLUICE_POSITION_STORE_CORRUPT');
    assert.match(err.message, /positions\.json/);
    return true;
  });
  await writeFile(path, '{"binlog:orders": 12}');
  await assert.rejects(new FilePositionStore(path).load('binlog:orders'), {
    code: 'SLUICE_POSITION_STORE_CORRUPT',
  });
});
