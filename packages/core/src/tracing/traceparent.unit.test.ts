import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeEnvelope } from '../envelope/codec.js';
import { envelopeOf, prepareEvent } from '../outbox/prepare-event.js';
import { formatTraceparent, parseTraceparent, traceparentInValue } from './traceparent.js';
import { Deposited } from './tracing-fixtures.test-support.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

describe('traceparent', () => {
  it('formats and parses W3C version 00', () => {
    const value = formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
    assert.equal(value, `00-${TRACE}-${SPAN}-01`);
    assert.deepEqual(parseTraceparent(value), {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      isRemote: true,
    });
    assert.equal(
      formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 }),
      `00-${TRACE}-${SPAN}-00`,
    );
    assert.equal(formatTraceparent({ traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 }), undefined);
  });

  it('rejects what W3C Trace Context says is invalid, reads later versions by their first fields', () => {
    for (const bad of [
      undefined,
      '',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}`,
      `00-${TRACE}-${SPAN}-0g`,
      `0g-${TRACE}-${SPAN}-01`,
      `00_${TRACE}-${SPAN}-01`,
      `00-${TRACE}_${SPAN}-01`,
      `00-${TRACE}-${SPAN}_01`,
      `00-${TRACE.slice(0, 31)}z-${SPAN}-01`,
      `00-${TRACE}-${SPAN.slice(0, 15)}Z-01`,
      `01-${TRACE}-${SPAN}-01x`,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad));
    }
    assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-later`)?.spanId, SPAN);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.traceFlags, 1, 'the sampled bit of flags 03');
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-fe`)?.traceFlags, 0, 'flags fe: not sampled');
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01`)?.traceId, TRACE);
  });

  it('finds the envelope attribute in an encoded value, never a field of the data', () => {
    const traceparent = `00-${TRACE}-${SPAN}-01`;
    const event = prepareEvent(Deposited, { accountId: `"traceparent":"${traceparent}"`, amount: 1 });
    assert.equal(traceparentInValue(encodeEnvelope(envelopeOf(event, 'urn:t', 1))), undefined);
    assert.equal(
      traceparentInValue(encodeEnvelope(envelopeOf(event, 'urn:t', 1, { traceparent }))),
      traceparent,
    );
    const inData = `{"specversion":"1.0","id":"x","data":{"traceparent":"${traceparent}"}}`;
    assert.equal(traceparentInValue(inData), undefined);
    assert.equal(traceparentInValue(null), undefined);
  });
});
