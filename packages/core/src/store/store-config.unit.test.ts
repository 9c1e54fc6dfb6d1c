import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStore } from './create-store.js';
import { storeConfigOf, storeKindOf } from './store-config.js';

describe('storeConfigOf / storeKindOf: the database a URL names', () => {
  it('reads postgres://, postgresql://, mysql://, mariadb:// and file paths', () => {
    assert.deepEqual(storeConfigOf('postgres://u:p@h:5432/app', { schema: 's' }), {
      kind: 'postgres',
      url: 'postgres://u:p@h:5432/app',
      schema: 's',
    });
    assert.equal(storeKindOf('postgresql://h/app'), 'postgres');
    assert.deepEqual(storeConfigOf('mysql://u:p@h:3306/app'), {
      kind: 'mysql',
      url: 'mysql://u:p@h:3306/app',
    });
    assert.equal(storeKindOf('MariaDB://h/app'), 'mysql');
    assert.deepEqual(storeConfigOf('data/app.db'), { kind: 'sqlite', path: 'data/app.db' });
    assert.deepEqual(storeConfigOf('file:///var/app.db'), { kind: 'sqlite', path: '/var/app.db' });
    assert.deepEqual(storeConfigOf('file:app.db'), { kind: 'sqlite', path: 'app.db' });
    assert.deepEqual(storeConfigOf('C:\\data\\app.db'), { kind: 'sqlite', path: 'C:\\data\\app.db' });
  });

  it('refuses any other scheme instead of taking it for a file name', () => {
    for (const url of ['ftp://h/app.db', 'redis://h:6379', 'mongodb://h/app']) {
      assert.throws(
        () => storeKindOf(url),
        (e: Error & { code?: string }) =>
          e.code === 'SLUICE_INVALID_OPTION' &&
          e.message.includes('postgres://') &&
          e.message.includes(url.split(':')[0]!),
        url,
      );
    }
  });

  it('createStore refuses an unknown kind, naming it', async () => {
    await assert.rejects(
      createStore({ kind: 'oracle' } as never),
      (e: Error & { code?: string }) => e.code === 'SLUICE_INVALID_OPTION' && /"oracle"/.test(e.message),
    );
  });
});
