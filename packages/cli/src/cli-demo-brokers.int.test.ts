import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

// `sluice demo --transport <broker URL>` as a user runs it (a child process, as in cli.int.test.ts), against
// the real brokers of `eval "$(bash scripts/services nats redis kafka)"`: the relays, the consumer, the inbox
// and the dead letters run unchanged on each, by configuration alone.
import { assertExit, sluice } from './cli-runner.test-support.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-cli-demo-brokers-')));
after(() => rmSync(root, { recursive: true, force: true }));

function env(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run \`eval "$(bash scripts/services nats redis kafka)"\` first (npm test does it)`,
    );
  return value;
}

const brokers = [
  { kind: 'nats', url: () => env('SLUICE_TEST_NATS_URL'), name: /nats/ },
  { kind: 'redis', url: () => env('SLUICE_TEST_REDIS_URL'), name: /redis/ },
  { kind: 'kafka', url: () => `kafka://${env('SLUICE_TEST_KAFKA_BROKERS')}`, name: /kafka/ },
] as const;

describe('sluice demo --transport', () => {
  for (const broker of brokers) {
    it(`${broker.kind}: every invariant holds with two relays (one SIGKILLed) and a consumer on the broker`, {
      timeout: 90_000,
    }, async () => {
      const run = await sluice(
        [
          'demo',
          '--transport',
          broker.url(),
          '--events',
          '300',
          '--duration',
          '2',
          '--relay-kills',
          '1',
          '--dir',
          join(root, broker.kind),
        ],
        { cwd: root, timeoutMs: 80_000 },
      );
      assertExit(run, 0, `demo --transport ${broker.kind}`);
      const header = /^Sluice demo: SQLite outbox -> relay -> (.*) -> consumer with inbox/m.exec(run.stdout);
      assert.ok(header, `no summary header:\n${run.stdout}`);
      assert.match(header[1]!, broker.name, 'the summary names the broker');
      assert.match(header[1]!, /namespace sluice-demo-[a-z0-9]+/, 'the run used a namespace of its own');
      assert.match(run.stdout, /^ {2}lost +0$/m);
      assert.match(run.stdout, /^ {2}phantom \(rolled back or invented, yet delivered\) +0$/m);
      assert.match(run.stdout, /^ {2}applied more than once +0$/m);
      assert.match(run.stdout, /^ {2}order violations \(per key\) +0$/m);
      assert.match(run.stdout, /^ {2}relay killed with SIGKILL and restarted +1$/m);
      const committed = Number(/^ {2}committed +(\d+)$/m.exec(run.stdout)?.[1]);
      const rolledBack = Number(
        /^ {2}rolled back \(must never be delivered\) +(\d+)$/m.exec(run.stdout)?.[1],
      );
      assert.equal(committed + rolledBack, 300);
      const delivered = Number(/^ {2}delivered and applied exactly once +(\d+)$/m.exec(run.stdout)?.[1]);
      const deadLettered = Number(
        /^ {2}dead-lettered \(handler kept failing\) +(\d+)$/m.exec(run.stdout)?.[1],
      );
      assert.equal(delivered + deadLettered, committed);
      const replayed = Number(
        /^ {2}replayed from the start, skipped by the inbox +(\d+)$/m.exec(run.stdout)?.[1],
      );
      assert.ok(replayed >= delivered, `the replay re-delivered ${replayed} of ${delivered} applied events`);
      assert.match(run.stdout, /^All invariants held\.$/m);
      assert.match(
        run.stdout,
        new RegExp(
          `sluice tail enrollments --transport ${broker.url().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} --namespace sluice-demo-`,
        ),
      );
    });
  }
});
