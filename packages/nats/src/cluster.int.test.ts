import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const urls = process.env['SLUICE_TEST_NATS_CLUSTER_URLS'];
const dir = process.env['SLUICE_TEST_NATS_CLUSTER_DIR'];
if (!urls || !dir) {
  throw new Error(
    'SLUICE_TEST_NATS_CLUSTER_URLS is not set: run the tests with `npm test` (it starts the cluster)',
  );
}
const services = fileURLToPath(new URL('../../../scripts/services', import.meta.url));

/**
 * The 3-node JetStream cluster of `scripts/services nats-cluster`: a stream with 3 replicas keeps every
 * acknowledged message when a node is SIGKILLed while publishing, and the restarted node catches up.
 */
describe('the NATS cluster of scripts/services', () => {
  it('R3 stream: nothing acknowledged is lost when a node is killed mid-stream', {
    timeout: 120_000,
  }, async () => {
    const nc = await connect({ servers: urls.split(','), reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const name = `check_${randomUUID().slice(0, 8)}`;
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3 });
      const js = jetstream(nc, { timeout: 10_000 });
      const acked = new Set<number>();
      const publish = async (i: number) => {
        for (;;) {
          try {
            const ack = await js.publish(`${name}.k${i % 5}`, `v${i}`, { msgID: `m${i}` });
            acked.add(i);
            return ack;
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // leader moving: publish again (de-duplicated)
          }
        }
      };
      for (let i = 0; i < 200; i++) await publish(i);
      // Kill node 0 (whatever it leads) with SIGKILL, keep publishing, then bring it back.
      const pid = Number(readFileSync(join(dir, 'n0', 'nats.pid'), 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      for (let i = 200; i < 400; i++) await publish(i);
      execFileSync('bash', [services, 'nats-cluster'], { stdio: ['ignore', 'ignore', 'inherit'] });
      for (let i = 400; i < 500; i++) await publish(i);
      assert.equal(acked.size, 500);
      const info = await jsm.streams.info(name);
      assert.equal(info.state.messages, 500, 'every acknowledged message is in the stream, once');
      assert.equal(info.cluster?.replicas?.length, 2, 'a leader and two replicas');
    } finally {
      await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    }
  });
});
