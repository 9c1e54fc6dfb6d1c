import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../../scripts/services', import.meta.url));
const SHARED_STATE = process.env['SLUICE_SERVICES_DIR'] ?? '/var/tmp/sluice-services';
const KAFKA_VERSION = '4.4.0';

/** A Kafka broker of one test's own, started by `scripts/services kafka` in a state dir and ports of its own. */
export interface PrivateKafka {
  /** `kafka://127.0.0.1:PORT`. */
  readonly url: string;
  /** The port the broker listens on (clients are told to use `advertisedPort`). */
  readonly port: number;
  /** SIGKILLs the broker process (no clean shutdown). */
  kill(): void;
  /** Sends the broker process a signal: SIGSTOP freezes it (requests time out), SIGCONT thaws it. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Starts it again on the same data dir; resolves once it answers a metadata request. */
  start(): Promise<void>;
  /** Stops the broker and removes its state dir. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Starts a private single-node KRaft broker on free loopback ports (never the shared one on 59092). The broker
 * jars are shared with the shared instance's state dir (a symlink), so nothing is fetched again.
 * `advertisedPort`: the port the broker tells clients to connect to, where the caller runs a proxy to it (see
 * `startKafkaFaultProxy`); it must answer before this is called, as the readiness check goes through it.
 */
export async function startPrivateKafka(
  options: { readonly port?: number; readonly advertisedPort?: number } = {},
): Promise<PrivateKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kafka-private-'));
  const libs = join(SHARED_STATE, 'kafka', `libs-${KAFKA_VERSION}`);
  if (existsSync(libs)) {
    mkdirSync(join(dir, 'kafka'), { recursive: true });
    symlinkSync(libs, join(dir, 'kafka', `libs-${KAFKA_VERSION}`));
  }
  const port = options.port ?? (await freePort());
  let controller = await freePort();
  while (controller === port || controller === options.advertisedPort) controller = await freePort();
  const env = {
    ...process.env,
    SLUICE_SERVICES_DIR: dir,
    SLUICE_KAFKA_PORT: String(port),
    SLUICE_KAFKA_CONTROLLER_PORT: String(controller),
    SLUICE_KAFKA_ADVERTISED_PORT: String(options.advertisedPort ?? port),
  };
  const services = (...args: string[]) => run('bash', [SERVICES, ...args], { env, timeout: 180_000 });
  const brokerPid = () => Number(readFileSync(join(dir, 'kafka', 'kafka.pid'), 'utf8').trim());
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await services('stop', 'kafka').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await services('kafka');
    return {
      url: `kafka://127.0.0.1:${options.advertisedPort ?? port}`,
      port,
      kill() {
        process.kill(brokerPid(), 'SIGKILL');
      },
      signal(signal) {
        process.kill(brokerPid(), signal);
      },
      async start() {
        await services('kafka');
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** A loopback port nobody listens on, away from the shared services' ports. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 59200 + Math.floor(Math.random() * 700);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port in 59200-59899 for a private Kafka');
}
