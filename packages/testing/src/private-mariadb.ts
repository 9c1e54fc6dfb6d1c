import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A MariaDB server of one test's own: its own datadir, port and binlog (log_bin, ROW, FULL, server_id 1). */
export interface PrivateMariadb {
  /** `mysql://sluice:sluice@127.0.0.1:<port>/sluice`: a user with all privileges, replication included. */
  readonly url: string;
  readonly port: number;
  /** The state dir (`data/`, `mariadb.log`, `my.cnf`). */
  readonly dir: string;
  /** Sends `signal` to the server and resolves when it has exited (SIGKILL: no clean shutdown, crash recovery on start). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same datadir and port; resolves once it answers. */
  start(): Promise<void>;
  /** Sends `signal` without waiting (SIGSTOP freezes the server with its connections open; SIGCONT thaws it). */
  signal(signal: NodeJS.Signals): void;
  /** `kill(signal)` then `start()`. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Runs SQL as root over the server's socket (for what the sluice user may not do, e.g. PURGE). */
  root(sql: string): Promise<string>;
  /** Stops the server and removes its state dir. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Starts a private MariaDB on a free loopback port, never the shared one (which other tests use while this one
 * kills, restarts or purges its own). Takes a few seconds (mariadb-install-db): reuse one per test file.
 */
export async function startPrivateMariadb(options: { extraConfig?: string } = {}): Promise<PrivateMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mariadb-private-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mariadbd.sock');
  const log = join(dir, 'mariadb.log');
  const cnf = join(dir, 'my.cnf');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const user = root ? 'mysql' : (process.env['USER'] ?? 'root');
  mkdirSync(data);
  if (root) {
    const { stdout } = await run('id', ['-u', 'mysql']);
    const { stdout: gid } = await run('id', ['-g', 'mysql']);
    for (const d of [dir, data]) chownSync(d, Number(stdout.trim()), Number(gid.trim()));
  }
  writeFileSync(
    cnf,
    `[mariadbd]
user                 = ${user}
datadir              = ${data}
socket               = ${socket}
pid-file             = ${join(dir, 'mariadbd.pid')}
port                 = ${port}
bind-address         = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server     = utf8mb4_unicode_ci
log_bin              = mysql-bin
binlog_format        = ROW
binlog_row_image     = FULL
server_id            = 1
innodb_buffer_pool_size = 64M
innodb_log_file_size = 48M
performance_schema   = OFF
${options.extraConfig ?? ''}
`,
  );
  let child: ChildProcess | undefined;
  let destroyed = false;
  const mariadb = (sql: string) =>
    run('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', root ? 'root' : user, '-N', '-e', sql], {
      timeout: 60_000,
    }).then((r) => r.stdout);
  const start = async () => {
    const out = openSync(log, 'a');
    const server = spawn(mariadbBinary(), [`--defaults-file=${cnf}`], { stdio: ['ignore', out, out] });
    child = server;
    const exited = new Promise<never>((_, reject) =>
      server.once('exit', (code, signal) =>
        reject(new Error(`mariadbd exited (${code ?? signal}) while starting; see ${log}`)),
      ),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ok = await Promise.race([
        run('mariadb-admin', [
          '--no-defaults',
          '-h',
          '127.0.0.1',
          '-P',
          String(port),
          '--protocol=TCP',
          '-u',
          'sluice',
          '-psluice',
          '--connect-timeout=2',
          'ping',
        ]).then(
          () => true,
          () => false,
        ),
        exited,
      ]);
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`private MariaDB did not answer on port ${port} in 120 s; see ${log}`);
      // Before the first provisioning the sluice user does not exist yet: make it over the socket.
      await mariadb(PROVISION).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const kill = async (signal: NodeJS.Signals) => {
    const server = child;
    child = undefined;
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill(signal);
    await exited;
  };
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      'mariadb-install-db',
      [
        `--defaults-file=${cnf}`,
        `--user=${user}`,
        `--datadir=${data}`,
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
      ],
      { timeout: 120_000 },
    );
    await start();
    return {
      url: `mysql://sluice:sluice@127.0.0.1:${port}/sluice`,
      port,
      dir,
      kill,
      start,
      signal(signal) {
        child?.kill(signal);
      },
      async restart(signal = 'SIGTERM') {
        await kill(signal);
        await start();
      },
      root: mariadb,
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

const PROVISION = `
CREATE DATABASE IF NOT EXISTS sluice CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'sluice'@'127.0.0.1' IDENTIFIED BY 'sluice';
GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;`;

/** `mariadbd` on the PATH, else Debian's /usr/sbin/mariadbd (as scripts/services looks for it). */
function mariadbBinary(): string {
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin']) {
    if (dir !== '' && existsSync(join(dir, 'mariadbd'))) return join(dir, 'mariadbd');
  }
  throw new Error('mariadbd not found: install mariadb-server (scripts/services mariadb does)');
}

/** A loopback port nobody listens on, away from the shared services' ports and the private PostgreSQL ones. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 56440 + Math.floor(Math.random() * 500);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port in 56440-56939 for a private MariaDB');
}
