import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type AuditReport, createTransport, defineTopic, encodeEnvelope, uuidv7 } from '@sluice/core';
import { assertExit, sluice } from './cli-runner.test-support.js';

// `sluice audit --transport <broker URL>` on a topic alone (no outbox), against the real brokers of
// `eval "$(bash scripts/services redis kafka)"`: records crafted with a gap and an order violation are published
// straight to the broker, in a namespace of the test's own (left on the shared broker: a few records).

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-audit-brokers-')));
after(() => rmSync(root, { recursive: true, force: true }));

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run \`eval "$(bash scripts/services redis kafka)"\` first (npm test does it)`,
    );
  }
  return value;
}

const brokers = [
  { kind: 'redis', url: () => env('SLUICE_TEST_REDIS_URL') },
  { kind: 'kafka', url: () => `kafka://${env('SLUICE_TEST_KAFKA_BROKERS')}` },
] as const;

const SOURCE = 'urn:service:crafted';

function crafted(key: string, sequence: number) {
  const id = uuidv7();
  const value = encodeEnvelope({
    specversion: '1.0',
    id,
    source: SOURCE,
    type: 'crafted.happened',
    time: new Date().toISOString(),
    subject: key,
    datacontenttype: 'application/json',
    dataschema: 'urn:sluice:contract:crafted.happened:v1',
    partitionkey: key,
    sluiceseq: sequence,
    sluiceseqkind: 'counter',
    data: { sequence },
  });
  return { topic: 'crafted', key, value, id };
}

describe('sluice audit --transport on a topic alone', () => {
  for (const broker of brokers) {
    it(`${broker.kind}: reports the gap of one key and the out-of-order event of another (exit 1)`, {
      timeout: 30_000,
    }, async () => {
      const namespace = `sluice-audit-${randomUUID().slice(0, 8)}`;
      const transport = await createTransport({ kind: broker.kind, url: broker.url(), namespace });
      const gap = [1, 2, 4].map((s) => crafted('k-gap', s));
      const order = [1, 3, 2].map((s) => crafted('k-order', s));
      const clean = [1, 2, 3].map((s) => crafted('k-clean', s));
      try {
        await transport.ensureTopic(defineTopic({ name: 'crafted', kind: 'event', partitions: 2 }));
        // One publish per record: each key's records are stored in this order.
        for (const record of [...gap, ...order, ...clean]) await transport.publish([record]);
      } finally {
        await transport.close();
      }
      const args = ['audit', '--topic', 'crafted', '--transport', broker.url(), '--namespace', namespace];
      const json = await sluice([...args, '--json'], { cwd: root, timeoutMs: 25_000 });
      assertExit(json, 1, `audit on ${broker.kind}`);
      const report = JSON.parse(json.stdout) as AuditReport;
      assert.equal(report.records, 9);
      assert.equal(report.keys, 3);
      assert.equal(report.outboxRows, null);
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.key, p.expected, p.received, p.ids]),
        [
          ['missing', 'k-gap', '3', undefined, []],
          ['out-of-order', 'k-order', '4', 2, [order[2]!.id]],
        ],
      );
      assert.match(report.notes.join('\n'), /no outbox given/);
      const text = await sluice(args, { cwd: root, timeoutMs: 25_000 });
      assertExit(text, 1, `audit on ${broker.kind} (text)`);
      assert.match(
        text.stdout,
        /^ {2}missing +topic=crafted key=k-gap expected=3 : counter sequence 3 never stored: the key has 2, then 4$/m,
      );
      assert.match(
        text.stdout,
        new RegExp(
          `^ {2}out-of-order +topic=crafted key=k-order expected=4 received=2 ids=${order[2]!.id} at=\\d+@\\S+ : `,
          'm',
        ),
      );
    });
  }
});
