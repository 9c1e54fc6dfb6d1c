import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { checkEvent, defineEvent } from '../define-event.js';
import { defineKey } from '../define-key.js';
import { defineTopic } from '../define-topic.js';
import { buildLock } from '../lock/build-lock.js';
import { toAsyncApi } from './asyncapi.js';

const AccountId = defineKey('accountId', z.string().regex(/^A-\d+$/), { description: 'An account' });
const accounts = defineTopic({ name: 'accounts', kind: 'event', partitions: 3 });
const notices = defineTopic({ name: 'notices', kind: 'message', partitions: 1, retentionMs: 3_600_000 });
const opened = (version: number, extra: z.ZodRawShape = {}) =>
  defineEvent({
    type: 'account.opened',
    version,
    key: AccountId,
    topic: accounts,
    description: `opened v${version}`,
    schema: z.object({ accountId: AccountId.schema, email: z.email(), ...extra }),
    classification: { email: 'personal' },
    ...(version === 1 ? { deprecated: { since: '2027-01-31', replacedBy: 2 } } : {}),
  });
const noticed = defineEvent({
  type: 'account.noticed',
  version: 1,
  key: AccountId,
  topic: notices,
  description: 'a notice',
  schema: z.object({ accountId: AccountId.schema, text: z.string() }),
  backfill: false,
});
const contracts = [opened(2, { name: z.string() }), noticed, opened(1)];

type Doc = Record<string, Record<string, Record<string, unknown>>>;

describe('toAsyncApi', () => {
  const doc = toAsyncApi(contracts, { title: 'accounts', version: '1.2.3' }) as unknown as Doc;

  it('has a channel per topic with its partition key, and a message per contract version', () => {
    assert.equal((doc as unknown as { asyncapi: string }).asyncapi, '3.0.0');
    assert.deepEqual(Object.keys(doc['channels']!), ['accounts', 'notices']);
    const channel = doc['channels']!['accounts'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(channel['messages']!), ['account.opened.v1', 'account.opened.v2']);
    assert.match(
      String(channel['description']),
      /Partition key: `accountId` \(An account; data field `accountId`\)/,
    );
    assert.deepEqual(channel['x-sluice']!['keys'], [
      { name: 'accountId', fields: ['accountId'], description: 'An account' },
    ]);
    const kafka = (channel['bindings'] as Record<string, Record<string, unknown>>)['kafka']!;
    assert.equal(kafka['partitions'], 3);
    assert.deepEqual(kafka['topicConfiguration'], { 'cleanup.policy': ['delete'], 'retention.ms': -1 });
    const noticesKafka = (doc['channels']!['notices'] as { bindings: { kafka: Record<string, unknown> } })
      .bindings.kafka;
    assert.equal((noticesKafka['topicConfiguration'] as Record<string, unknown>)['retention.ms'], 3_600_000);
    assert.deepEqual(Object.keys(doc['components']!['messages'] as object), [
      'account.noticed.v1',
      'account.opened.v1',
      'account.opened.v2',
    ]);
  });

  it('gives each message the structured CloudEvent as payload, data by reference, and a send operation', () => {
    const m = (doc['components']!['messages'] as Record<string, Record<string, unknown>>)[
      'account.opened.v1'
    ]!;
    const payload = m['payload'] as {
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    for (const a of [
      'specversion',
      'id',
      'source',
      'type',
      'time',
      'subject',
      'dataschema',
      'partitionkey',
      'sluiceseq',
    ])
      assert.ok(payload.required.includes(a), a);
    for (const a of ['sluiceseqkind', 'traceparent', 'correlationid', 'causationid'])
      assert.ok(a in payload.properties && !payload.required.includes(a), a);
    assert.equal(payload.properties['type']!['const'], 'account.opened');
    assert.equal(payload.properties['subject']!['pattern'], '^A-\\d+$');
    assert.deepEqual(payload.properties['data'], { $ref: '#/components/schemas/account.opened.v1' });
    assert.equal(m['deprecated'], true);
    assert.deepEqual((m['x-sluice'] as Record<string, unknown>)['classification'], { email: 'personal' });
    const schema = (doc['components']!['schemas'] as Record<string, Record<string, unknown>>)[
      'account.opened.v1'
    ]!;
    assert.equal(schema['$schema'], undefined);
    const example = (m['examples'] as { payload: { data: unknown; subject: string } }[])[0]!.payload;
    assert.equal(checkEvent(opened(1), example.data, 'append').key, example.subject);
    const op = doc['operations']!['send-accounts'] as Record<string, unknown>;
    assert.equal(op['action'], 'send');
    assert.deepEqual(op['channel'], { $ref: '#/channels/accounts' });
    assert.deepEqual(op['messages'], [
      { $ref: '#/channels/accounts/messages/account.opened.v1' },
      { $ref: '#/channels/accounts/messages/account.opened.v2' },
    ]);
  });

  it('is the same for the same contracts in any order, and from a lock file', () => {
    const again = toAsyncApi([...contracts].reverse(), { title: 'accounts', version: '1.2.3' });
    assert.equal(JSON.stringify(again), JSON.stringify(doc));
    const fromLock = toAsyncApi(buildLock(contracts).contracts, { title: 'accounts', version: '1.2.3' });
    assert.equal(JSON.stringify(fromLock), JSON.stringify(doc));
  });

  it('has a server per transport, without credentials; none without transports', () => {
    assert.equal(doc['servers'], undefined);
    const servers = toAsyncApi(contracts, {
      title: 't',
      version: '1',
      servers: {
        bus: 'var/bus.db',
        kafka: 'kafka://app:s3cret@k1:9092,k2:9092',
        nats: { kind: 'nats', url: 'nats://127.0.0.1:4222', namespace: 'dev' },
        redis: 'redis://:pw@127.0.0.1:6379/0',
      },
    })['servers'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(servers).map(([n, s]) => [n, [s['protocol'], s['host'], s['pathname']]]),
      ),
      {
        bus: ['sluice-embedded', 'localhost', 'var/bus.db'],
        kafka: ['kafka', 'k1:9092', undefined],
        nats: ['nats', '127.0.0.1:4222', undefined],
        redis: ['redis', '127.0.0.1:6379', undefined],
      },
    );
    assert.doesNotMatch(JSON.stringify(servers), /s3cret|:pw@/);
    assert.match(String(servers['kafka']!['description']), /Hosts: k1:9092, k2:9092/);
    assert.deepEqual(servers['nats']!['x-sluice'], { transport: 'nats', namespace: 'dev' });
  });
});
