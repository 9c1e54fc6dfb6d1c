/**
 * Versions in flight, end to end on the embedded default: a SQLite outbox, the relay, the embedded log and
 * consumers with the SQLite inbox, whose handlers write to the consumer's database in the inbox transaction.
 * A consumer written for v2 (or v3) applies v1 events through upcasters, in order per key and once; a failing
 * upcaster dead-letters its event, naming the upcaster, while other keys flow; a fact published as v1 and v2
 * during a migration is applied once by every consumer, as the newest version it handles; deprecated versions
 * are warned about once and counted.
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
  type Handler,
  type Logger,
  parseDeadLetter,
  type Relay,
  type Upcaster,
} from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createLogTransport, type LogTransport } from '../log/log-transport.js';
import { openDatabase, type SqliteDatabase } from '../open-database.js';
import { createSqliteOutbox, type SqliteOutbox } from '../outbox/sqlite-outbox.js';
import {
  OrderPlacedV1,
  OrderPlacedV2,
  OrderPlacedV3,
  orders,
  v1ToV2,
  v1ToV2Broken,
  v2ToV3,
} from './order-versions.test-support.js';
import { createSqliteInbox } from './sqlite-inbox.js';

const SOURCE = 'urn:service:shop';

interface Row {
  grp: string;
  key: string;
  seq: number;
  version: number;
  upcast_from: number | null;
  cents: number;
  currency: string | null;
  channel: string | null;
}

let dir: string;
let opened: SqliteDatabase[];
let app: SqliteDatabase;
let outbox: SqliteOutbox;
let transport: LogTransport;
let relay: Relay;
let consumerDb: SqliteDatabase;
let running: Consumer<SqliteDatabase>[];
let outboxWarnings: string[];

const open = (name: string) => {
  const db = openDatabase(join(dir, name));
  opened.push(db);
  return db;
};
const capture = (into: string[]): Logger => ({
  debug() {},
  info() {},
  warn: (message) => void into.push(message),
  error: (message) => void into.push(message),
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-versions-'));
  opened = [];
  running = [];
  outboxWarnings = [];
  app = open('app.db');
  outbox = createSqliteOutbox(app, { source: SOURCE, migrate: true, logger: capture(outboxWarnings) });
  transport = createLogTransport({ path: join(dir, 'bus.db') });
  relay = createRelay({ outbox, transport, topics: [orders], idleWaitMs: 20, ackIntervalMs: 10 }).start();
  consumerDb = open('consumer.db');
  consumerDb.exec(`CREATE TABLE applied (grp TEXT, key TEXT, seq INTEGER, version INTEGER, upcast_from INTEGER,
    cents INTEGER, currency TEXT, channel TEXT, PRIMARY KEY (grp, key, seq))`);
});

afterEach(async () => {
  for (const c of running) await c.stop();
  await relay.stop();
  await transport.close();
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A handler that records the event in the consumer's database, in the inbox transaction. */
function recording(
  contract: typeof OrderPlacedV1 | typeof OrderPlacedV2 | typeof OrderPlacedV3,
  grp: string,
) {
  return {
    contract,
    fn: (e, { tx }) => {
      const d = e.data as { amount?: number; total?: { cents: number; currency: string }; channel?: string };
      tx.prepare('INSERT INTO applied VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        grp,
        e.key,
        e.sequence,
        e.version,
        e.upcastFrom ?? null,
        d.total?.cents ?? d.amount,
        d.total?.currency ?? null,
        d.channel ?? null,
      );
    },
  } satisfies Handler<SqliteDatabase>;
}

/** Starts a consumer group; its outcomes and log lines are collected. */
function consume(
  group: string,
  handlers: Handler<SqliteDatabase>[],
  upcasters: Upcaster[] = [],
  replay = false,
) {
  const outcomes: ConsumeOutcome[] = [];
  const logs: string[] = [];
  const consumer = createConsumer({
    transport,
    group,
    inbox: createSqliteInbox(consumerDb, { migrate: true }),
    handlers,
    upcasters,
    backoff: { initialMs: 5, maxMs: 50 },
    logger: capture(logs),
    ...(replay ? { replay: { to: 'earliest' as const } } : {}),
    onOutcome: (o) => void outcomes.push(o),
  });
  running.push(consumer);
  const count = (kind: ConsumeOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  const settled = () => outcomes.filter((o) => o.kind !== 'gap' && o.kind !== 'retry').length;
  return { consumer, outcomes, logs, count, settled };
}

const rows = (grp: string) =>
  consumerDb.prepare('SELECT * FROM applied WHERE grp = ? ORDER BY key, seq').all(grp) as Row[];

it('v2 and v3 consumers apply v1 events through chained upcasters, in order per key and once; deprecation warned once and counted', {
  timeout: 60_000,
}, async () => {
  // Per key: v1, v2, v1, v2 (sequences 1..4), amounts 100, 200, 300, 400 cents.
  for (let i = 1; i <= 4; i++) {
    for (const key of ['A', 'B', 'C']) {
      if (i % 2 === 1) outbox.append(app, OrderPlacedV1, { orderId: key, amount: i * 100 });
      else outbox.append(app, OrderPlacedV2, { orderId: key, total: { cents: i * 100, currency: 'EUR' } });
    }
  }
  assert.equal(
    outboxWarnings.length,
    1,
    `one warning for six deprecated appends: ${outboxWarnings.join('; ')}`,
  );
  assert.match(
    outboxWarnings[0]!,
    /appending order\.placed v1, deprecated since 2020-01-01: publish v2 instead/,
  );

  const billing = consume('billing', [recording(OrderPlacedV2, 'billing')], [v1ToV2]);
  const reporting = consume('reporting', [recording(OrderPlacedV3, 'reporting')], [v1ToV2, v2ToV3]);
  await until(
    () => billing.settled() === 12 && reporting.settled() === 12,
    'both groups to settle 12 events',
  );

  for (const key of ['A', 'B', 'C']) {
    const b = rows('billing').filter((r) => r.key === key);
    assert.deepEqual(
      b.map((r) => [r.seq, r.version, r.upcast_from, r.cents, r.currency]),
      [
        [1, 2, 1, 100, 'EUR'],
        [2, 2, null, 200, 'EUR'],
        [3, 2, 1, 300, 'EUR'],
        [4, 2, null, 400, 'EUR'],
      ],
    );
    const r = rows('reporting').filter((x) => x.key === key);
    assert.deepEqual(
      r.map((x) => [x.seq, x.version, x.upcast_from, x.cents, x.channel]),
      [
        [1, 3, 1, 100, 'web'],
        [2, 3, 2, 200, 'web'],
        [3, 3, 1, 300, 'web'],
        [4, 3, 2, 400, 'web'],
      ],
    );
  }
  // In order per key: the outcomes of each key come in sequence order.
  for (const key of ['A', 'B', 'C']) {
    const seqs = billing.outcomes.flatMap((o) =>
      o.kind === 'applied' && o.event.key === key ? [o.event.sequence] : [],
    );
    assert.deepEqual(seqs, [1, 2, 3, 4]);
  }
  const stats = billing.consumer.stats();
  assert.equal(stats.applied, 12);
  assert.equal(stats.deadLettered, 0);
  assert.equal(stats.deprecatedReceived, 6);
  const warned = billing.logs.filter((l) => l.includes('deprecated'));
  assert.equal(warned.length, 1, 'one consumer warning per deprecated version');
  assert.match(warned[0]!, /received order\.placed v1, deprecated since 2020-01-01, from urn:service:shop/);

  // Exactly once: the same group replayed from the start applies nothing again.
  await billing.consumer.stop();
  const again = consume('billing', [recording(OrderPlacedV2, 'billing')], [v1ToV2], true);
  await until(() => again.settled() === 12, 'the replay to settle 12 events');
  assert.equal(again.count('duplicate'), 12);
  assert.equal(rows('billing').length, 12);
});

it('a failing upcaster dead-letters its event with the upcaster named; later events of the key and other keys flow', {
  timeout: 60_000,
}, async () => {
  const placed: [string, number][] = [
    ['A', 100],
    ['B', -5],
    ['C', 13],
    ['A', 200],
    ['B', 300],
    ['C', 400],
  ];
  for (const [orderId, amount] of placed) outbox.append(app, OrderPlacedV1, { orderId, amount });

  const billing = consume('billing', [recording(OrderPlacedV2, 'billing')], [v1ToV2]);
  const broken = consume('broken', [recording(OrderPlacedV2, 'broken')], [v1ToV2Broken]);
  await until(() => billing.settled() === 6 && broken.settled() === 6, 'both groups to settle 6 events');

  assert.deepEqual(
    rows('billing').map((r) => `${r.key}${r.seq}:${r.cents}`),
    ['A1:100', 'A2:200', 'B2:300', 'C1:13', 'C2:400'],
  );
  const [dead] = billing.outcomes.filter((o) => o.kind === 'dead-lettered');
  assert.ok(dead?.kind === 'dead-lettered');
  assert.equal(dead.error.code, 'SLUICE_UPCAST_FAILED');
  assert.match(
    dead.error.message,
    /^upcaster order\.placed v1->v2 threw: negative amount -5 \(event \S+, key B\)/,
  );
  assert.equal(dead.attempts, 1, 'an upcaster is deterministic: dead-lettered without retries');

  // The dead letter is on the group's dead-letter topic with the reason.
  const sub = await transport.subscribe({
    group: 'dlq-reader',
    topics: ['billing.dlq'],
    startFrom: 'earliest',
  });
  try {
    const letters = await sub.poll({ maxRecords: 10, maxWaitMs: 2000 });
    assert.equal(letters.length, 1);
    const letter = parseDeadLetter(letters[0]!);
    assert.equal(letter.original.key, 'B');
    assert.match(letter.error.message, /upcaster order\.placed v1->v2 threw/);
  } finally {
    await sub.close();
  }

  // An upcaster whose result its target contract refuses: dead-lettered, naming it.
  assert.deepEqual(
    rows('broken').map((r) => `${r.key}${r.seq}`),
    ['A1', 'A2', 'B2', 'C2'],
  );
  const refused = broken.outcomes.flatMap((o) => (o.kind === 'dead-lettered' ? [o.error] : []));
  assert.equal(refused.length, 2);
  for (const e of refused) {
    assert.equal(e.code, 'SLUICE_UPCAST_FAILED');
    assert.match(e.message, /^upcaster order\.placed v1->v2 produced data that order\.placed v2 refuses/);
  }
});

it('a fact published as v1 and v2 in one transaction reaches v1-only, v2-only and both-versions consumers once each', {
  timeout: 60_000,
}, async () => {
  for (let i = 1; i <= 3; i++) {
    for (const key of ['A', 'B']) {
      const written = outbox.appendVersions(app, [
        { contract: OrderPlacedV1, data: { orderId: key, amount: i } },
        { contract: OrderPlacedV2, data: { orderId: key, total: { cents: i, currency: 'EUR' } } },
      ]);
      assert.deepEqual(
        written.map((w) => w.sequence),
        [2 * i - 1, 2 * i],
      );
      assert.notEqual(written[0]!.id, written[1]!.id);
    }
  }
  const legacy = consume('legacy', [recording(OrderPlacedV1, 'legacy')]);
  // With the upcaster, the v1 copies could reach the v2 handler too: they are skipped, not applied twice.
  const modern = consume('modern', [recording(OrderPlacedV2, 'modern')], [v1ToV2]);
  const both = consume('both', [recording(OrderPlacedV1, 'both'), recording(OrderPlacedV2, 'both')]);
  await until(
    () => legacy.settled() === 12 && modern.settled() === 12 && both.settled() === 12,
    'three groups to settle 12 events each',
  );
  const facts = (grp: string) => rows(grp).map((r) => `${r.key}:v${r.version}:${r.cents}`);
  assert.deepEqual(facts('legacy'), ['A:v1:1', 'A:v1:2', 'A:v1:3', 'B:v1:1', 'B:v1:2', 'B:v1:3']);
  assert.deepEqual(facts('modern'), ['A:v2:1', 'A:v2:2', 'A:v2:3', 'B:v2:1', 'B:v2:2', 'B:v2:3']);
  assert.deepEqual(facts('both'), facts('modern'));
  for (const g of [legacy, modern, both]) {
    const s = g.consumer.stats();
    assert.deepEqual([s.applied, s.skipped, s.deadLettered], [6, 6, 0]);
  }
  assert.ok(rows('modern').every((r) => r.upcast_from === null));

  // A group that applied the v1 copies and is redeployed with a v2 handler (replaying) applies nothing twice:
  // its inbox recorded each fact, not each copy.
  const before = rows('legacy').length;
  await legacy.consumer.stop();
  const switched = consume('legacy', [recording(OrderPlacedV2, 'legacy')], [], true);
  await until(() => switched.settled() === 12, 'the redeployed group to settle 12 events');
  assert.deepEqual(
    [switched.count('applied'), switched.count('duplicate'), switched.count('skipped')],
    [0, 6, 6],
  );
  assert.equal(rows('legacy').length, before);
});
