import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient } from '@redis/client';

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * What the Redis transport's durability rests on: with the append-only file on (`appendonly yes`, as
 * scripts/services configures, with `appendfsync always`), a stream entry Redis acknowledged survives a
 * SIGKILL of the server: Redis writes the AOF before it replies. (Without the AOF this test fails: checked.)
 * A process crash leaves the written file in the OS page cache; `appendfsync always` also covers an OS crash
 * or power loss, which `everysec` (Redis's default) can lose up to a second of, and no test here can cause.
 * A private server in a temporary directory, so the shared one is never killed.
 */
describe('Redis with AOF appendfsync always', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-aof-'));
  let server: ChildProcess | undefined;
  after(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (port: number) => {
    const child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const probe = createClient({ url: `redis://127.0.0.1:${port}` });
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') {
          await probe.close();
          return child;
        }
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await probe.close().catch(() => undefined);
      }
    }
    throw new Error('redis-server did not start');
  };

  it('keeps every acknowledged XADD across a SIGKILL of the server', { timeout: 60_000 }, async () => {
    const port = await freePort();
    server = await start(port);
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    client.on('error', () => undefined); // the server is killed below
    await client.connect();
    const acked: string[] = [];
    for (let i = 0; i < 300; i++) acked.push(await client.xAdd('s', '*', { v: `v${i}` }));
    server.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await client.close().catch(() => undefined);
    server = await start(port);
    const again = createClient({ url: `redis://127.0.0.1:${port}` });
    await again.connect();
    const entries = (await again.xRange('s', '-', '+')) ?? [];
    await again.close();
    assert.deepEqual(
      entries.map((e) => e.id),
      acked,
      'every acknowledged entry, in order',
    );
    assert.deepEqual(
      entries.map((e) => e.message['v']),
      acked.map((_, i) => `v${i}`),
    );
  });
});
