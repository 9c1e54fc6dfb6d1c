/**
 * `appendVersions` on PostgreSQL: one fact as v1 and v2 in the caller's transaction (nothing on rollback), each
 * its own event with consecutive sequences of the key, tied by `sluicefact`; a deprecated version warned about
 * once through the outbox's logger.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { decodeEnvelope, defineEvent, InvalidOptionError } from '@sluice/core';
import { z } from 'zod';
import { migrate } from '../migrations/migrate.js';
import { fromPg } from '../pg-client.js';
import {
  AccountId,
  accounts,
  SOURCE,
  type TestDatabase,
  testDatabase,
} from '../test-database.test-support.js';
import { createPostgresOutbox } from './postgres-outbox.js';

const ClosedV1 = defineEvent({
  type: 'account.closed',
  version: 1,
  key: AccountId,
  topic: accounts,
  description: 'an account was closed',
  schema: z.object({ accountId: z.string(), reason: z.string() }),
  deprecated: { since: '2020-01-01', replacedBy: 2 },
});
const ClosedV2 = defineEvent({
  type: 'account.closed',
  version: 2,
  key: AccountId,
  topic: accounts,
  description: 'an account was closed, with a reason code',
  schema: z.object({ accountId: z.string(), reason: z.enum(['moved', 'other']) }),
});

let db: TestDatabase;

beforeEach(async () => {
  db = testDatabase({ prefix: 'versions' });
  await migrate(fromPg(db.pool), db.schema);
});

afterEach(async () => {
  await db.close();
});

it('appendVersions writes each version as its own event of the key, tied by sluicefact, in the caller transaction', async () => {
  const warnings: string[] = [];
  const outbox = await createPostgresOutbox(db.pool, {
    source: SOURCE,
    schema: db.schema,
    logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} },
  });
  const versions = (reason: string) =>
    [
      { contract: ClosedV1, data: { accountId: 'A-1', reason } },
      { contract: ClosedV2, data: { accountId: 'A-1', reason: 'moved' as const } },
    ] as const;
  const app = await db.client();
  try {
    await app.query('BEGIN');
    await outbox.appendVersions(fromPg(app), versions('rolled back'));
    await app.query('ROLLBACK');
    assert.equal((await outbox.readPending(undefined, 10)).rows.length, 0, 'nothing after a rollback');

    await app.query('BEGIN');
    const written = await outbox.appendVersions(fromPg(app), versions('moved abroad'));
    await outbox.append(fromPg(app), ClosedV1, { accountId: 'A-1', reason: 'again' });
    await app.query('COMMIT');
    assert.deepEqual(
      written.map((w) => w.sequence),
      [1, 2],
    );
  } finally {
    await app.end();
  }
  const envelopes = (await outbox.readPending(undefined, 10)).rows.map((r) => decodeEnvelope(r.value));
  assert.deepEqual(
    envelopes.map((e) => [e.dataschema, e.sluiceseq, e.sluicefact]),
    [
      [ClosedV1.dataschema, 1, envelopes[0]!.id],
      [ClosedV2.dataschema, 2, envelopes[0]!.id],
      [ClosedV1.dataschema, 3, undefined],
    ],
  );
  assert.equal(envelopes[1]!.sluicefactschemas, `${ClosedV1.dataschema} ${ClosedV2.dataschema}`);
  assert.equal(warnings.length, 1, 'one warning for three deprecated appends');
  assert.match(warnings[0]!, /appending account\.closed v1, deprecated since 2020-01-01/);

  await assert.rejects(
    outbox.appendVersions(fromPg(db.pool), [
      { contract: ClosedV1, data: { accountId: 'A-1', reason: 'x' } },
      { contract: ClosedV2, data: { accountId: 'A-2', reason: 'other' } },
    ]),
    (e: unknown) =>
      e instanceof InvalidOptionError && /every version of the fact must carry the same key/.test(e.message),
  );
  await outbox.close();
});
