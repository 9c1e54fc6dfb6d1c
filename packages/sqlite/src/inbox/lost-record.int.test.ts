/**
 * A record lost by the bus is noticed: the relay publishes from a SQLite outbox to the embedded log (a SQLite
 * file); one record of one key is then deleted from the log's table directly (what Kafka did when it
 * acknowledged events it never stored), and the first record of another key too (sequence 1 lost, 2 arrives
 * first). A new consumer group with the SQLite inbox holds both keys, naming expected and received sequences,
 * and applies every other key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';
import {
  type ConsumeOutcome,
  type Consumer,
  createConsumer,
  createRelay,
  decodeEnvelope,
  defineEvent,
  defineKey,
  defineTopic,
  handle,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { z } from 'zod';
import { createLogTransport } from '../log/log-transport.js';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteOutbox } from '../outbox/sqlite-outbox.js';
import { createSqliteInbox } from './sqlite-inbox.js';

const SOURCE = 'urn:service:ledger';
const AccountId = defineKey('accountId', z.string().min(1), { description: 'an account' });
const ledger = defineTopic({ name: 'ledger', kind: 'event', partitions: 2 });
const Posted = defineEvent({
  type: 'ledger.posted',
  version: 1,
  key: AccountId,
  topic: ledger,
  description: 'an amount posted to an account',
  schema: z.object({ accountId: z.string().min(1), amount: z.int() }),
});

let dir: string;
let opened: SqliteDatabase[];
const open = (name: string) => {
  const db = openDatabase(join(dir, name));
  opened.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-lost-record-'));
  opened = [];
});

afterEach(() => {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

it('a record deleted from the embedded log is noticed: its key is held with expected and received named, other keys applied', {
  timeout: 30_000,
}, async () => {
  // Producer: A, B, C get sequences 1, 2, 3 each, interleaved.
  const app = open('app.db');
  const outbox = createSqliteOutbox(app, { source: SOURCE, migrate: true });
  for (let i = 1; i <= 3; i++) {
    for (const key of ['A', 'B', 'C']) {
      assert.equal(outbox.append(app, Posted, { accountId: key, amount: i }).sequence, i);
    }
  }
  const busPath = join(dir, 'bus.db');
  const transport = createLogTransport({ path: busPath });
  const relay = createRelay({
    outbox,
    transport,
    topics: [ledger],
    idleWaitMs: 50,
    ackIntervalMs: 10,
  }).start();
  let consumer: Consumer<SqliteDatabase> | undefined;
  try {
    const bus = open('bus.db');
    const records = () =>
      bus
        .prepare('SELECT partition, offset, value FROM sluice_log_records WHERE topic = ?')
        .all('ledger') as {
        partition: number;
        offset: number;
        value: string;
      }[];
    await until(() => records().length === 9, 'the relay to publish all nine events');
    await relay.stop();

    // The bus loses A's sequence 2 and C's sequence 1.
    const lost = records().filter((r) => {
      const e = decodeEnvelope(r.value);
      return (e.subject === 'A' && e.sluiceseq === 2) || (e.subject === 'C' && e.sluiceseq === 1);
    });
    assert.equal(lost.length, 2);
    const remove = bus.prepare(
      'DELETE FROM sluice_log_records WHERE topic = ? AND partition = ? AND offset = ?',
    );
    for (const r of lost) assert.equal(remove.run('ledger', r.partition, r.offset).changes, 1);

    // A new consumer group reads the topic from the start through the SQLite inbox.
    const consumerDb = open('consumer.db');
    const inbox = createSqliteInbox(consumerDb, { migrate: true });
    const applied: string[] = [];
    const gaps: Extract<ConsumeOutcome, { kind: 'gap' }>[] = [];
    const alerts: string[] = [];
    const running = createConsumer({
      transport,
      group: 'balances',
      inbox,
      backoff: { initialMs: 5, maxMs: 50 },
      logger: { debug() {}, info() {}, warn() {}, error: (message) => void alerts.push(message) },
      handlers: [handle(Posted, (e) => void applied.push(`${e.key}:${e.sequence}`))],
      onOutcome: (o) => {
        if (o.kind === 'gap') gaps.push(o);
      },
    });
    consumer = running;
    await until(() => applied.length === 4 && gaps.length === 2, 'B to be applied and A and C to be held');
    await sleep(200); // re-checks with backoff: nothing more is applied or reported
    const stats = running.stats();

    assert.deepEqual(applied.toSorted(), ['A:1', 'B:1', 'B:2', 'B:3']);
    assert.deepEqual(
      gaps
        .map((g) => `${g.key}: ${g.problem} expected ${g.expected} received ${g.received}, ${g.action}`)
        .toSorted(),
      ['A: gap expected 2 received 3, held', 'C: gap expected 1 received 2, held'],
    );
    assert.equal(stats.heldKeys, 2);
    assert.equal(stats.gaps, 2);
    assert.equal(alerts.length, 2, 'one alert per held key, not one per re-check');
    assert.match(
      alerts.find((a) => a.includes('key A')) ?? '',
      /sequence gap: expected 2, received 3 on ledger partition \d offset \d+ key A/,
    );
    const chains = consumerDb
      .prepare(
        "SELECT key, last_sequence AS last FROM sluice_inbox_chain WHERE consumer_group = 'balances' ORDER BY key",
      )
      .all();
    assert.deepEqual(chains, [
      { key: 'A', last: 1 },
      { key: 'B', last: 3 },
    ]);
  } finally {
    await consumer?.stop();
    await relay.stop();
    await transport.close();
  }
});
