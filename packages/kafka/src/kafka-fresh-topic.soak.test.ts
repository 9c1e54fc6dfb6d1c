import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  fullRateScenario,
  type ProxiedKafka,
  relayScenario,
  smallFirstScenario,
  startProxiedKafka,
} from './kafka-fresh-topic.test-support.js';

/** `npm run soak`: the fresh-topic fault test for SLUICE_SOAK_SECONDS (default 600 s) under harsher conditions. */
const seconds = Number(process.env['SLUICE_SOAK_SECONDS'] ?? 600);

/**
 * Round after round until the time is up: the deterministic small-first case, several publishers at full rate
 * into new topics, and relays that create their topics and publish at once, while two busy processes compete with the broker for the machine's CPU and the broker
 * is frozen (SIGSTOP) for 4 s now and then, longer than the publishers' 3 s delivery timeout, so requests time
 * out and are retried, some of them the first requests of a new partition. Every round checks that each
 * acknowledged record is stored where its ack said, that nothing was invented, and each publisher's order
 * per key.
 */
describe(`soak: acknowledged means stored on fresh Kafka topics for ${seconds} s`, () => {
  let kafka: ProxiedKafka;
  const burners: ChildProcess[] = [];
  before(async () => {
    kafka = await startProxiedKafka();
  });
  after(async () => {
    for (const burner of burners) burner.kill('SIGKILL');
    kafka?.broker.signal('SIGCONT');
    await kafka?.destroy();
  });

  it('loses no acknowledged record, invents none, keeps order', {
    timeout: (seconds + 300) * 1000,
  }, async (t) => {
    for (let i = 0; i < 2; i++) {
      burners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    }
    const end = Date.now() + seconds * 1000;
    let paused = 0;
    let stopPausing = false;
    const pauser = (async () => {
      while (!stopPausing && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 5000 + Math.random() * 10_000));
        if (stopPausing) break;
        kafka.broker.signal('SIGSTOP');
        paused++;
        await new Promise((resolve) => setTimeout(resolve, 4000));
        kafka.broker.signal('SIGCONT');
      }
    })();
    const problems: string[] = [];
    let rounds = 0;
    let unconfirmed = 0;
    let acked = 0;
    try {
      while (Date.now() < end) {
        rounds++;
        for (const result of [
          await smallFirstScenario(kafka, `soak-small-${rounds}`, 2),
          await fullRateScenario(kafka, `soak-full-${rounds}`, {
            topics: 4,
            publishers: 6,
            batches: 6,
            transport: { deliveryTimeoutMs: 3000, requestTimeoutMs: 5000 },
          }),
          await relayScenario(kafka, `soak-relays-${rounds}`, { relays: 4, events: 6000 }),
        ]) {
          problems.push(...result.problems.map((p) => `round ${rounds}: ${p}`));
          unconfirmed += result.unconfirmed;
          acked += result.acked;
          t.diagnostic(`round ${rounds}: ${result.summary}`);
        }
      }
    } finally {
      stopPausing = true;
      await pauser;
    }
    t.diagnostic(
      `${rounds} rounds, broker frozen ${paused} times, ${acked} records acknowledged, ${unconfirmed} publishes refused for want of an offset and sent again`,
    );
    assert.deepEqual(problems, []);
  });
});
