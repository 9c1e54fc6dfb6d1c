import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TransportConfig } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { PrivateRedis } from '@sluice/testing';
import { assertChaosInvariants, type ChaosBus, runPipelineChaos, sqliteProducer } from './pipeline-chaos.js';

const SECONDS = 12;

function env(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run \`eval "$(bash scripts/services nats kafka)"\` first (npm test does it)`,
    );
  return value;
}

/** A broker for the chaos run: how to reach it, and what else breaks while it runs. */
interface Broker {
  readonly kind: 'nats' | 'redis' | 'kafka';
  readonly what: string;
  open(): Promise<{ url: string; disrupt?: ChaosBus['disrupt']; close(): Promise<void>; restarts(): number }>;
  /** Adapter options for the consumer process: a short session, and on Kafka a static member id. */
  readonly options: Readonly<Record<string, unknown>>;
}

const brokers: readonly Broker[] = [
  {
    kind: 'nats',
    what: 'NATS JetStream (single server)',
    open: async () => ({ url: env('SLUICE_TEST_NATS_URL'), close: async () => {}, restarts: () => 0 }),
    options: { sessionTimeoutMs: 1500 },
  },
  {
    kind: 'redis',
    what: 'Redis Streams (a private server, AOF always, SIGKILLed and restarted twice)',
    async open() {
      const server = await PrivateRedis.start('always');
      let restarts = 0;
      return {
        url: server.url,
        // Twice while producing: SIGKILL the server, leave it down for 300 ms, start it again.
        async disrupt(producing) {
          for (let i = 0; i < 2; i++) {
            await sleep((SECONDS * 1000) / 3);
            if (!producing()) return;
            await server.kill();
            await sleep(300);
            await server.start();
            restarts++;
          }
        },
        close: () => server.stop(),
        restarts: () => restarts,
      };
    },
    options: { sessionTimeoutMs: 1500 },
  },
  {
    kind: 'kafka',
    what: 'Kafka (the KRaft broker of scripts/services)',
    open: async () => ({
      url: `kafka://${env('SLUICE_TEST_KAFKA_BROKERS')}`,
      close: async () => {},
      restarts: () => 0,
    }),
    // A restarted consumer rejoins as the same static member at once, instead of waiting out the dead one.
    options: { sessionTimeoutMs: 6000, staticMembership: true },
  },
];

/**
 * The pipeline chaos of `pipeline.fault.test.ts` with the bus on each broker: a SQLite producer commits and
 * rolls back business transactions while two `sluice relay --transport <broker>` processes and a consumer
 * process (SQLite inbox) are SIGKILLed at random points again and again (and the Redis server too). Afterwards
 * every committed event was applied exactly once, in order per key, and nothing rolled back arrived.
 */
describe('relays and consumer SIGKILLed mid-stream, with the bus on a broker', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const broker of brokers) {
    it(`${broker.what}: loses nothing, invents nothing, keeps per-key order, applies each event once`, {
      timeout: 240_000,
    }, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), `sluice-chaos-${broker.kind}-`));
      dirs.push(dir);
      const server = await broker.open();
      try {
        const namespace = `chaos-${Math.random().toString(36).slice(2, 10)}`;
        const config: TransportConfig = {
          kind: broker.kind,
          url: server.url,
          namespace,
          options: broker.options,
        };
        const result = await runPipelineChaos(dir, SECONDS, sqliteProducer(dir), {
          config,
          relayArgs: ['--transport', server.url, '--namespace', namespace],
          ...(server.disrupt === undefined ? {} : { disrupt: server.disrupt }),
        });
        t.diagnostic(`${broker.kind}: broker restarts ${server.restarts()}`);
        assertChaosInvariants(result, SECONDS, t);
        if (broker.kind === 'redis') {
          if (server.restarts() !== 2)
            throw new Error(`the Redis server was restarted ${server.restarts()} times, not 2`);
        }
      } finally {
        await server.close();
      }
    });
  }
});
