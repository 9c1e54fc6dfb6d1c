import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { isRetryable } from '@sluice/core';
import { createNatsTransport } from './nats-transport.js';

/** A TCP port on 127.0.0.1 that nothing listens on (taken and released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('nats errors', () => {
  it('nothing listening at the URL: says so, names host and port, never the password, retryable', async () => {
    const port = await freePort();
    await assert.rejects(
      createNatsTransport({ url: `nats://app:s3cret-pw@127.0.0.1:${port}` }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SLUICE_BROKER_UNAVAILABLE');
        assert.ok(isRetryable(error));
        assert.match(error.message, new RegExp(`no NATS server answers at 127\\.0\\.0\\.1:${port}`));
        assert.match(error.message, /start one \(bash scripts\/services nats\) or pass the right URL/);
        assert.doesNotMatch(error.message, /restarting or electing/);
        assert.doesNotMatch(error.message, /s3cret-pw/);
        return true;
      },
    );
  });

  it('a running server connects (the check above is about the address, not NATS)', async () => {
    const url = process.env['SLUICE_TEST_NATS_URL'];
    if (!url) throw new Error('SLUICE_TEST_NATS_URL is not set: run `eval "$(bash scripts/services nats)"`');
    const transport = await createNatsTransport({ url });
    await transport.close();
  });
});
