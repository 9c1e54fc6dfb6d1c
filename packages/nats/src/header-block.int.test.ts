import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, createInbox, headers, type Msg } from '@nats-io/transport-node';
import { HeaderBlock } from './header-block.js';

const url = process.env['SLUICE_TEST_NATS_URL'];
if (!url)
  throw new Error('SLUICE_TEST_NATS_URL is not set: run the tests with `npm test` (it starts the server)');

describe('HeaderBlock on messages from a real server', () => {
  it("reads the installed client's raw header bytes (the fast path) and agrees with its own decoding", async () => {
    const nc = await connect({ servers: url.replace(/^nats:\/\//, '') });
    try {
      const subject = createInbox();
      const received = new Promise<Msg>((resolve) => {
        const sub = nc.subscribe(subject, {
          callback: (_error, msg) => {
            sub.unsubscribe();
            resolve(msg);
          },
        });
      });
      const h = headers();
      h.set('Nats-Msg-Id', 'id-1');
      h.set('Sluice-Key', encodeURIComponent('clé 1'));
      h.set('Sluice-Tombstone', '1');
      nc.publish(subject, 'body', { headers: h });
      const msg = await received;

      // A client upgrade that renames these fields silently falls back to the slower public API: fail here.
      const internals = msg as unknown as { _msg?: { hdr?: unknown }; _rdata?: unknown };
      assert.equal(typeof internals._msg?.hdr, 'number', 'the client keeps the header length in _msg.hdr');
      assert.ok(internals._rdata instanceof Uint8Array, 'the client keeps the raw bytes in _rdata');

      const block = HeaderBlock.of(msg);
      assert.ok(block);
      for (const name of ['Nats-Msg-Id', 'Sluice-Key', 'Sluice-Tombstone', 'Sluice-Headers']) {
        assert.equal(block.get(name), msg.headers?.get(name) ?? '', name);
      }
      assert.equal(decodeURIComponent(block.get('Sluice-Key')), 'clé 1');
      assert.equal(block.code, 0);
    } finally {
      await nc.close();
    }
  });
});
