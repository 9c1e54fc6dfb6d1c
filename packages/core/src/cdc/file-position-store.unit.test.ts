import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SluiceError } from '../errors.js';
import { FilePositionStore } from './file-position-store.js';

test('FilePositionStore keeps each source position across instances, and the last save wins', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-pos-')), 'nested', 'positions.json');
  const a = new FilePositionStore(path);
  assert.equal(await a.load('binlog:orders'), undefined);
  await Promise.all([
    a.save('binlog:orders', '0-1-5'),
    a.save('query:courses', '{"id":3}'),
    a.save('binlog:orders', '0-1-9'),
  ]);
  const b = new FilePositionStore(path);
  assert.equal(await b.load('binlog:orders'), '0-1-9');
  assert.equal(await b.load('query:courses'), '{"id":3}');
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), {
    'binlog:orders': '0-1-9',
    'query:courses': '{"id":3}',
  });
});

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
