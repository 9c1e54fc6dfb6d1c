import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConsumeOutcome, createConsumer, encodeEnvelope, type Logger } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createLogTransport, createSqliteInbox, openDatabase } from '@sluice/sqlite';
import { MemberJoined, membersTopic } from './classified-contracts.test-support.js';
import { assertExit, lines, type Run, sluice as run } from './cli-runner.test-support.js';

// Field classification as the operator meets it: `sluice tail` and `sluice dlq` mask the fields a contract
// classifies when given `--contracts`, `--show-personal` shows personal ones with an audit line, and the
// consumer's dead-letter log line carries no classified value.
const CONTRACTS = fileURLToPath(new URL('./classified-contracts.test-support.ts', import.meta.url));
const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-masking-')));
const bus = join(root, 'bus.db');
const GROUP = 'welcome-mail';
const sluice = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  run(args, { cwd: root, env });

const EMAIL = 'ada.lovelace@example.org';
const PASSWORD = 'hunter2-correct-horse';
const STREET = '12 Analytical Engine Row';
const BAD_EMAIL = 'ada-at-nowhere-personal';
const member = (id: string, email: string) => ({
  specversion: '1.0' as const,
  id,
  source: 'urn:test:members',
  type: MemberJoined.type,
  time: new Date().toISOString(),
  subject: 'm-1',
  datacontenttype: 'application/json' as const,
  dataschema: MemberJoined.dataschema,
  partitionkey: 'm-1',
  sluiceseq: 1,
  data: {
    memberId: 'm-1',
    plan: 'gold',
    email,
    password: PASSWORD,
    address: { street: STREET, city: 'London' },
  },
});
const GOOD_ID = '0193f1a2-0000-7000-8000-000000000001';
const BAD_ID = '0193f1a2-0000-7000-8000-000000000002';

function assertNoClassifiedValue(text: string, what: string): void {
  for (const value of [EMAIL, PASSWORD, STREET, BAD_EMAIL]) {
    assert.ok(!text.includes(value), `${what} shows ${value}:\n${text}`);
  }
}

/** Log lines of a consumer, as JSON, for the assertion that none carries a classified value. */
const logged: string[] = [];
const capture: Logger = {
  debug: (m, f) => logged.push(JSON.stringify({ m, ...f })),
  info: (m, f) => logged.push(JSON.stringify({ m, ...f })),
  warn: (m, f) => logged.push(JSON.stringify({ m, ...f })),
  error: (m, f) => logged.push(JSON.stringify({ m, ...f })),
};

describe('classified fields in the CLI and the logs', () => {
  before(async () => {
    const transport = createLogTransport({ path: bus });
    await transport.ensureTopic(membersTopic);
    await transport.publish([
      { topic: 'members', key: 'm-1', id: GOOD_ID, value: encodeEnvelope(member(GOOD_ID, EMAIL)) },
      // A producer that bypassed its contract: the consumer refuses it and dead-letters it.
      { topic: 'members', key: 'm-1', id: BAD_ID, value: encodeEnvelope(member(BAD_ID, BAD_EMAIL)) },
    ]);
    const inboxDb = openDatabase(join(root, 'inbox.db'));
    let settled!: () => void;
    const deadLettered = new Promise<void>((resolve) => {
      settled = resolve;
    });
    const consumer = createConsumer({
      transport,
      group: GROUP,
      inbox: createSqliteInbox(inboxDb, { migrate: true }),
      handlers: (on) => [on(MemberJoined, () => undefined)],
      maxAttempts: 1,
      logger: capture,
      onOutcome: (outcome: ConsumeOutcome) => {
        if (outcome.kind === 'dead-lettered') settled();
      },
    });
    try {
      await Promise.race([
        deadLettered,
        sleep(15_000).then(() => Promise.reject(new Error('no dead letter within 15 s'))),
      ]);
    } finally {
      await consumer.stop();
      await transport.close();
      inboxDb.close();
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the dead-letter log line names the field that broke the contract, not its value', () => {
    const line = logged.find((l) => l.includes('event dead-lettered'));
    assert.ok(line, `no dead-letter log line among:\n${logged.join('\n')}`);
    assert.match(line, /SLUICE_CONTRACT_VIOLATION/);
    assert.match(line, /at email: .*received string \(personal, not shown\)/);
    assertNoClassifiedValue(logged.join('\n'), 'the consumer log');
  });

  it('`sluice tail --contracts` masks personal fields (***#hash) and secrets (***)', async () => {
    const tail = await sluice([
      'tail',
      'members',
      '--log',
      bus,
      '--no-follow',
      '--json',
      '--contracts',
      CONTRACTS,
    ]);
    assertExit(tail, 0, 'tail --contracts');
    const events = lines(tail.stdout).map(
      (l) => (JSON.parse(l) as { event: { data: Record<string, unknown> } }).event,
    );
    assert.equal(events.length, 2);
    const data = events[0]!.data;
    assert.match(String(data['email']), /^\*\*\*#[0-9a-f]{4}$/);
    assert.equal(data['password'], '***');
    assert.deepEqual(Object.keys(data['address'] as object), ['street', 'city']);
    assert.equal((data['address'] as { city: string }).city, 'London');
    assert.equal(data['plan'], 'gold');
    assert.equal(events[1]!.data['email'] === data['email'], false, 'different values, different masks');
    assertNoClassifiedValue(tail.stdout, 'tail --contracts');
    assert.doesNotMatch(tail.stderr, /AUDIT/);

    const plain = await sluice(['tail', 'members', '--log', bus, '--no-follow', '--contracts', CONTRACTS]);
    assertExit(plain, 0, 'tail --contracts (text)');
    assertNoClassifiedValue(plain.stdout, 'tail --contracts (text)');
  });

  it('`--show-personal` shows personal fields, never secrets, and writes who and when to stderr', async () => {
    const tail = await sluice(
      ['tail', 'members', '--log', bus, '--no-follow', '--json', '--contracts', CONTRACTS, '--show-personal'],
      { USER: 'operator-olga' },
    );
    assertExit(tail, 0, 'tail --show-personal');
    assert.ok(tail.stdout.includes(EMAIL) && tail.stdout.includes(STREET), tail.stdout);
    assert.ok(!tail.stdout.includes(PASSWORD), tail.stdout);
    assert.match(
      tail.stderr,
      /^sluice tail: AUDIT personal fields shown to operator-olga at \d{4}-\d{2}-\d{2}T[\d:.]+Z \(--show-personal\)$/m,
    );
  });

  it('without --contracts the CLI cannot know the classification and prints data as it is', async () => {
    const tail = await sluice(['tail', 'members', '--log', bus, '--no-follow', '--json']);
    assertExit(tail, 0, 'tail');
    assert.ok(tail.stdout.includes(EMAIL));
  });

  it('`sluice dlq show` and `dlq list` mask the dead letter the same way', async () => {
    const show = await sluice([
      'dlq',
      'show',
      BAD_ID,
      '--group',
      GROUP,
      '--log',
      bus,
      '--contracts',
      CONTRACTS,
    ]);
    assertExit(show, 0, 'dlq show');
    assert.match(show.stdout, /"password": "\*\*\*"/);
    assert.match(show.stdout, /"city": "London"/);
    assertNoClassifiedValue(show.stdout, 'dlq show');
    for (const args of [
      ['dlq', 'show', BAD_ID, '--json'],
      ['dlq', 'list'],
      ['dlq', 'list', '--json'],
    ]) {
      const r = await sluice([...args, '--group', GROUP, '--log', bus, '--contracts', CONTRACTS]);
      assertExit(r, 0, args.join(' '));
      assert.ok(r.stdout.includes(BAD_ID), r.stdout);
      assertNoClassifiedValue(r.stdout, args.join(' '));
    }
    const shown = await sluice(
      ['dlq', 'show', BAD_ID, '--group', GROUP, '--log', bus, '--contracts', CONTRACTS, '--show-personal'],
      { USER: 'operator-olga' },
    );
    assertExit(shown, 0, 'dlq show --show-personal');
    assert.ok(shown.stdout.includes(BAD_EMAIL) && !shown.stdout.includes(PASSWORD), shown.stdout);
    assert.match(shown.stderr, /^sluice dlq show: AUDIT personal fields shown to operator-olga at /m);
  });
});
