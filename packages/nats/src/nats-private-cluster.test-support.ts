import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../../scripts/services', import.meta.url));

/** A 3-node NATS JetStream cluster of one test's own, started by `scripts/services nats-cluster`. */
export interface PrivateNatsCluster {
  /** The three client URLs, comma-separated. */
  readonly urls: string;
  /** SIGKILLs node `node` (0, 1 or 2; server names `sluice-n0`…). */
  kill(node: number): void;
  /** Starts every killed node again; resolves once all three answer. */
  start(): Promise<void>;
  /** Stops the nodes and removes the state dir. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Starts a private 3-node cluster in a state dir of its own, on free loopback ports (client ports base..base+2,
 * routes base+2000.., monitoring base+4000..), never the shared cluster: killing its nodes disturbs nobody.
 */
export async function startPrivateNatsCluster(): Promise<PrivateNatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-cluster-'));
  const base = await freeBase();
  const env = { ...process.env, SLUICE_SERVICES_DIR: dir, SLUICE_NATS_CLUSTER_PORT: String(base) };
  const services = (...args: string[]) => run('bash', [SERVICES, ...args], { env, timeout: 120_000 });
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await services('stop', 'nats-cluster').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await services('nats-cluster');
    return {
      urls: [0, 1, 2].map((i) => `nats://127.0.0.1:${base + i}`).join(','),
      kill(node) {
        const pid = Number(readFileSync(join(dir, 'nats-cluster', `n${node}`, 'nats.pid'), 'utf8').trim());
        process.kill(pid, 'SIGKILL');
      },
      async start() {
        // A killed node's client port may be held by a TIME_WAIT socket for a while: try again.
        for (let attempt = 0; ; attempt++) {
          try {
            await services('nats-cluster');
            return;
          } catch (error) {
            if (attempt >= 3) throw error;
            await new Promise((resolve) => setTimeout(resolve, 3000));
          }
        }
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A base port whose nine ports are free, away from the shared cluster's 54232. */
async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 54300 + 3 * Math.floor(Math.random() * 300);
    const ports = [0, 1, 2].flatMap((i) => [base + i, base + 2000 + i, base + 4000 + i]);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no nine free loopback ports in 54300-55199 (+2000, +4000) for a private NATS cluster');
}
