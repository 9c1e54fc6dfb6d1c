import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderBlock } from './header-block.js';
import { CONTENT_TYPE_HEADER, deliveryInfo, encodeRecord } from './nats-codec.js';

describe('deliveryInfo', () => {
  it('reads the stream sequence, time and pending count of a v1 ack subject', () => {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    const info = deliveryInfo('$JS.ACK.ORDERS.c1.1.4711.12.1732694400123456789.99');
    assert.deepEqual(info, { streamSequence: 4711, timestampMs: 1732694400123, pending: 99 });
  });

  it('reads the v2 form, with and without the trailing random token', () => {
    const v2 = '$JS.ACK.hub.ACCOUNT.ORDERS.c1.2.5.3.1732694400999000001.0';
    assert.deepEqual(deliveryInfo(v2), { streamSequence: 5, timestampMs: 1732694400999, pending: 0 });
    assert.deepEqual(deliveryInfo(`${v2}.xyz`), {
      streamSequence: 5,
      timestampMs: 1732694400999,
      pending: 0,
    });
  });

  it('keeps sequences beyond 32 bits exact', () => {
    const info = deliveryInfo('$JS.ACK.S.c.1.9007199254740991.1.1732694400000000000.0');
    assert.equal(info?.streamSequence, Number.MAX_SAFE_INTEGER);
  });

  it('refuses what is not an ack subject', () => {
    for (const reply of [
      undefined,
      '_INBOX.abc',
      '$JS.ACK.S.c.1.2.3', // too few tokens
      '$JS.ACK.S.c.1.x.3.1732694400000000000.0', // a sequence that is not a number
      '$JS.ACK.S.c.1.2.3.1732694400000000000.-1',
    ]) {
      assert.equal(deliveryInfo(reply), undefined, String(reply));
    }
  });
});

describe('HeaderBlock', () => {
  const block = new HeaderBlock(
    'NATS/1.0\r\nNats-Msg-Id: id-1\r\nSluice-Key:  a%20b \r\nX-Sluice-Key: other\r\nSluice-Tombstone: 1\r\n\r\n',
  );

  it('finds a header by its exact name at the start of a line, trimmed', () => {
    assert.equal(block.get('Sluice-Key'), 'a%20b');
    assert.equal(block.get('Nats-Msg-Id'), 'id-1');
    assert.equal(block.get('Sluice-Tombstone'), '1');
    assert.equal(block.get('X-Sluice-Key'), 'other');
  });

  it('answers "" for a missing header, a name inside another, or a different case', () => {
    assert.equal(block.get('Sluice-Headers'), '');
    assert.equal(block.get('Key'), '');
    assert.equal(block.get('sluice-key'), '');
    assert.equal(block.get('NATS/1.0'), '');
  });

  it('reads the status of a control message, and none of a stored one', () => {
    assert.equal(block.code, 0);
    assert.equal(block.description, '');
    const status = new HeaderBlock('NATS/1.0 404 No Messages\r\n\r\n');
    assert.equal(status.code, 404);
    assert.equal(status.description, 'No Messages');
    assert.equal(
      new HeaderBlock('NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n').code,
      408,
    );
  });
});

describe('encodeRecord', () => {
  const base = { topic: 't', key: 'k', id: 'id-1' };

  it('marks an event as a CloudEvent in structured mode (the NATS binding), counting the header in size', () => {
    const e = encodeRecord({ ...base, value: '{"specversion":"1.0"}' });
    assert.equal(e.headers.get(CONTENT_TYPE_HEADER), 'application/cloudevents+json; charset=UTF-8');
    const headerBytes = 'NATS/1.0\r\n\r\n'.length + (CONTENT_TYPE_HEADER.length + 2 + 43 + 2);
    assert.ok(e.size >= e.body.length + headerBytes, 'the header is counted against max_payload');
  });

  it('adds no content-type to a tombstone or to a record that brings its own (binary mode)', () => {
    assert.equal(encodeRecord({ ...base, value: null }).headers.has(CONTENT_TYPE_HEADER), false);
    const binary = encodeRecord({ ...base, value: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(binary.headers.has(CONTENT_TYPE_HEADER), false);
  });
});
