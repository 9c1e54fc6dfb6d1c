import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { isRetryable } from '@sluice/core';
import { brokerError } from './redis-errors.js';
import { createRedisTransport } from './redis-transport.js';

/** A TCP port on 127.0.0.1 that nothing listens on (taken and released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function redisUrl(): string {
  const url = process.env['SLUICE_TEST_REDIS_URL'];
  if (!url) throw new Error('SLUICE_TEST_REDIS_URL is not set: run `eval "$(bash scripts/services redis)"`');
  return url;
}

describe('redis errors', () => {
  it('nothing listening at the URL: says so, names host and port, never the password, retryable', async () => {
    const port = await freePort();
    await assert.rejects(
      createRedisTransport({ url: `redis://:s3cret-pw@127.0.0.1:${port}`, connectTimeoutMs: 300 }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SLUICE_BROKER_UNAVAILABLE');
        assert.ok(isRetryable(error));
        assert.match(error.message, new RegExp(`no Redis server answers at 127\\.0\\.0\\.1:${port}`));
        assert.match(error.message, /start one \(bash scripts\/services redis\) or pass the right URL/);
        assert.doesNotMatch(error.message, /s3cret-pw/);
        return true;
      },
    );
  });

  it("classifies the real server's replies: an unknown command is SLUICE_BROKER_ERROR, not retryable", async () => {
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      const reply = await client.sendCommand(['NO_SUCH_COMMAND_FOR_SLUICE']).catch((e: unknown) => e);
      const error = brokerError('sending a command', reply);
      assert.equal(error.code, 'SLUICE_BROKER_ERROR');
      assert.equal(isRetryable(error), false);
    } finally {
      client.destroy();
    }
  });
});
