import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createStore, type SluiceError, type Store, type StoreConfig } from '@sluice/core';

/** What the suite needs to open a database adapter's {@link Store} through core's `createStore`. */
export interface StoreHarness {
  /** Creates fresh storage with no Sluice tables (a file path not yet created, a schema or database). */
  setup(): Promise<void>;
  /** Removes what `setup` created. */
  teardown(): Promise<void>;
  /** The URL (or config) of the case's storage, as a user would pass it to `createStore`. */
  config(): StoreConfig | string;
  /** Whether anything was created at the storage (a file-based store's file); omitted when it always exists. */
  created?(): boolean;
  /** The password in that URL, which no name or message may show; `undefined` when there is none. */
  readonly password?: string;
  /** A URL of this kind with the password `s3cr3t` where nothing answers (a closed port on 127.0.0.1), or `undefined` for a file-based store. */
  readonly unreachable?: string;
}

async function rejectsWith(work: Promise<unknown>, code: string): Promise<SluiceError> {
  try {
    await work;
  } catch (error) {
    assert.equal((error as SluiceError).code, code, String(error));
    return error as SluiceError;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

/**
 * The behaviour every {@link Store} must show when opened by URL: a fresh database lists every migration as
 * pending and is changed by nothing but `migrate()`; an outbox is refused until the tables exist, then works;
 * migrating twice applies nothing; names and errors never show the password; a database that does not answer
 * is reported as unavailable, naming it; `close` is idempotent.
 */
export function runStoreConformance(name: string, harness: StoreHarness): void {
  describe(`${name}: Store conformance (createStore by URL)`, () => {
    const opened: Store[] = [];
    const open = async () => {
      const store = await createStore(harness.config());
      opened.push(store);
      return store;
    };
    beforeEach(() => harness.setup());
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await harness.teardown();
    });

    it('a fresh database: every migration pending, in version order; listing them changes nothing', async () => {
      const store = await open();
      const pending = await store.pendingMigrations();
      assert.ok(pending.length > 0, 'a fresh database has pending migrations');
      assert.deepEqual(
        pending.map((m) => m.version),
        [...pending.map((m) => m.version)].sort((a, b) => a - b),
      );
      for (const m of pending) assert.ok(m.name.length > 0 && m.sql.length > 0, `migration ${m.version}`);
      assert.deepEqual(await (await open()).pendingMigrations(), pending, 'listing created nothing');
      if (harness.created)
        assert.equal(harness.created(), false, 'listing the migrations created the storage');
    });

    it('refuses an outbox until migrated, naming the database; then opens it (also for a relay)', async () => {
      const store = await open();
      const refused = await rejectsWith(
        store.createOutbox({ source: 'urn:test:store' }),
        'SLUICE_MIGRATION_REQUIRED',
      );
      assert.match(refused.message, /migrate/);
      await rejectsWith(store.createInbox(), 'SLUICE_MIGRATION_REQUIRED');
      const pending = await store.pendingMigrations();
      // Version 0 (a schema and its history table, listed when missing) may be created without being listed.
      assert.deepEqual(
        (await store.migrate()).map((m) => m.version).filter((v) => v > 0),
        pending.map((m) => m.version).filter((v) => v > 0),
        'migrate applies what was pending',
      );
      assert.deepEqual(await store.pendingMigrations(), []);
      assert.deepEqual(await (await open()).migrate(), [], 'a second migrate applies nothing');
      const inbox = await store.createInbox();
      assert.equal(typeof inbox.runOnce, 'function', 'an inbox');
      for (const relay of [false, true]) {
        const outbox = await store.createOutbox({ source: 'urn:test:store', relay });
        const stats = await outbox.stats();
        assert.equal(stats.pending, 0, `relay ${relay}: nothing pending in a fresh outbox`);
      }
    });

    it('names the database without its password, in its name and its errors', async () => {
      const store = await open();
      assert.ok(store.name.length > 0);
      if (harness.password === undefined) return;
      const secret = `:${harness.password}@`;
      assert.ok(!store.name.includes(secret), `name ${store.name} shows the password`);
      const refused = await rejectsWith(
        store.createOutbox({ source: 'urn:test:store' }),
        'SLUICE_MIGRATION_REQUIRED',
      );
      assert.ok(!refused.message.includes(secret), refused.message);
    });

    it('reports a database that does not answer as unavailable, naming it without the password', {
      skip: harness.unreachable === undefined ? 'a file needs no server' : false,
    }, async () => {
      const store = await createStore(harness.unreachable!);
      try {
        const error = await rejectsWith(store.pendingMigrations(), 'SLUICE_DATABASE_UNAVAILABLE');
        assert.match(error.message, /127\.0\.0\.1/);
        assert.ok(!error.message.includes('s3cr3t'), error.message);
        assert.match(error.message, /\*\*\*/, 'the password is shown masked');
      } finally {
        await store.close();
      }
    });

    it('close is idempotent, also with outboxes open', async () => {
      const store = await open();
      await store.migrate();
      await store.createOutbox({ source: 'urn:test:store' });
      await store.createInbox();
      await store.close();
      await store.close();
    });
  });
}
