import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVICES = fileURLToPath(new URL('../../../scripts/services', import.meta.url));

/** A PostgreSQL cluster of one test's own, started by `scripts/services` in a state dir and port of its own. */
export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** The state dir (data, `postgres/postgres.log`). */
  readonly dir: string;
  /**
   * `pg_ctl restart -m <mode>` through `scripts/services restart`: every connection is cut; `immediate` skips
   * the shutdown checkpoint, so the server runs crash recovery as it starts. Resolves once it answers again.
   */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops the cluster and removes its state dir. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Starts a private PostgreSQL cluster on a free loopback port (never the shared one on 55432, which other tests
 * use while this one restarts its own). Takes a few seconds (initdb).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-private-'));
  // As root, scripts/services runs the server as the postgres user, who must reach the data dir inside.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const env = { ...process.env, SLUICE_SERVICES_DIR: dir, SLUICE_PG_PORT: String(port) };
  const services = (...args: string[]) => run('bash', [SERVICES, ...args], { env, timeout: 120_000 });
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await services('stop', 'postgres').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { stdout } = await services('postgres');
    const url = /SLUICE_TEST_PG_URL=(\S+)/.exec(stdout)?.[1];
    if (!url) throw new Error(`scripts/services printed no SLUICE_TEST_PG_URL: ${stdout}`);
    return {
      url,
      port,
      dir,
      async restart(mode) {
        await services('restart', '-m', mode, 'postgres');
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** A loopback port nobody listens on, above the shared services' ports. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 55440 + Math.floor(Math.random() * 500);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port in 55440-55939 for a private PostgreSQL');
}
