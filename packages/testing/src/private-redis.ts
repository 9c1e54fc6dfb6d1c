import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether a Redis server answers PING on 127.0.0.1:`port` within 500 ms. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}

/**
 * A private redis-server (the machine's, installed by scripts/services) for fault tests, in its own temporary
 * directory and port, so the shared server of scripts/services is never killed. AOF on with the given
 * `appendfsync`, no RDB snapshots, 127.0.0.1 only.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-redis-fault-'));
  readonly port: number;
  readonly appendfsync: 'always' | 'everysec';
  #child: ChildProcess | undefined;

  private constructor(port: number, appendfsync: 'always' | 'everysec') {
    this.port = port;
    this.appendfsync = appendfsync;
  }

  static async start(appendfsync: 'always' | 'everysec'): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), appendfsync);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on the same port and directory; resolves once it answers PING. */
  async start(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        this.appendfsync,
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      if (await pings(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILLs the server and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }

  /** Kills the server and deletes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
