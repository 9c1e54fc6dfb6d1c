import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedEnvelopeError } from '../errors.js';
import { fromBinary, toBinary } from './binary.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';
import type { Envelope } from './envelope.js';
import { fullEnvelope, minimalEnvelope } from './envelope-fixtures.test-support.js';

const full = fullEnvelope;
const minimal = minimalEnvelope;

/** Structured JSON of `full` as an object, for building malformed variants. */
function attributes(): Record<string, unknown> {
  return JSON.parse(encodeEnvelope(full)) as Record<string, unknown>;
}

function malformed(input: Parameters<typeof decodeEnvelope>[0], reason: RegExp): void {
  assert.throws(
    () => decodeEnvelope(input),
    (e: unknown) => {
      assert.ok(e instanceof MalformedEnvelopeError, `expected MalformedEnvelopeError, got ${String(e)}`);
      assert.equal(e.code, 'SLUICE_MALFORMED_ENVELOPE');
      assert.equal(e.retryable, false);
      assert.ok(e.message.startsWith('malformed event envelope: '), e.message);
      assert.match(e.message, reason);
      return true;
    },
  );
}

describe('encodeEnvelope / decodeEnvelope', () => {
  it('round-trips every attribute, including the optional extensions', () => {
    const json = encodeEnvelope(full);
    assert.deepEqual(decodeEnvelope(json), full);
    // From bytes as well as from a string.
    assert.deepEqual(decodeEnvelope(new TextEncoder().encode(json)), full);
  });

  it('omits absent extensions and does not invent them on decode', () => {
    const json = encodeEnvelope(minimal);
    const raw = JSON.parse(json) as Record<string, unknown>;
    assert.ok(!('traceparent' in raw) && !('correlationid' in raw) && !('causationid' in raw));
    const decoded = decodeEnvelope(json);
    assert.deepEqual(decoded, minimal);
    assert.ok(!('traceparent' in decoded));
  });

  it('carries sluiceseqkind (counter or position) and refuses any other value', () => {
    assert.equal(attributes()['sluiceseqkind'], 'counter');
    const position = { ...full, sluiceseqkind: 'position' as const };
    assert.deepEqual(decodeEnvelope(encodeEnvelope(position)), position);
    assert.deepEqual(fromBinary(toBinary(position).headers, toBinary(position).body), position);
    for (const sluiceseqkind of ['gapless', '', 1, 'Counter']) {
      malformed(
        JSON.stringify({ ...attributes(), sluiceseqkind: sluiceseqkind }),
        /attribute "sluiceseqkind" must be "counter" or "position"/,
      );
    }
  });

  it('writes structured mode with sequence as a string and datacontenttype application/json', () => {
    const raw = attributes();
    assert.equal(raw['specversion'], '1.0');
    assert.equal(raw['sluiceseq'], '7');
    assert.equal(raw['datacontenttype'], 'application/json');
    assert.deepEqual(raw['data'], full.data);
  });

  it('keeps null data (present but null) apart from missing data', () => {
    const e = { ...minimal, data: null };
    assert.equal(decodeEnvelope(encodeEnvelope(e)).data, null);
  });

  it('rejects a value that is not JSON', () => {
    malformed('{"specversion":"1.0",', /the value is not JSON \(\{"specversion"/);
    malformed('', /not JSON/);
  });

  it('rejects a JSON array', () => {
    malformed('[1,2,3]', /the value is not a JSON object/);
  });

  it('rejects JSON that is a number, string or null with MalformedEnvelopeError (not a TypeError)', () => {
    malformed('42', /not a JSON object/);
    malformed('"hello"', /not a JSON object/);
    malformed('null', /not a JSON object/);
    malformed('true', /not a JSON object/);
  });

  it('rejects a missing or empty required attribute, naming it', () => {
    for (const name of [
      'specversion',
      'id',
      'source',
      'type',
      'time',
      'subject',
      'dataschema',
      'sluiceseq',
    ]) {
      const raw = attributes();
      delete raw[name];
      malformed(JSON.stringify(raw), new RegExp(`required attribute "${name}" is missing`));
    }
    malformed(
      JSON.stringify({ ...attributes(), id: '' }),
      /attribute "id" must be a non-empty string, got ""/,
    );
    malformed(
      JSON.stringify({ ...attributes(), id: 12 }),
      /attribute "id" must be a non-empty string, got 12/,
    );
  });

  it('rejects a specversion other than 1.0', () => {
    malformed(
      JSON.stringify({ ...attributes(), specversion: '0.3' }),
      /specversion must be "1.0", got "0.3"/,
    );
  });

  it('rejects a time that is not an RFC 3339 timestamp', () => {
    for (const time of [
      'yesterday',
      '2024-06-30',
      '2024-06-30T12:34:56', // no offset
      '2024-06-30 12:34:56Z', // no T
      '2024-13-01T00:00:00Z',
      '1719750896789',
    ]) {
      malformed(JSON.stringify({ ...attributes(), time }), /attribute "time" is not an RFC 3339 timestamp/);
    }
    // Offsets and lower case are RFC 3339 too.
    assert.equal(
      decodeEnvelope(JSON.stringify({ ...attributes(), time: '2024-06-30t12:34:56+02:00' })).time,
      '2024-06-30t12:34:56+02:00',
    );
  });

  it('rejects impossible calendar times that Date.parse silently rolls over', () => {
    // Date.parse('2024-02-30T00:00:00Z') is 1 March in V8; RFC 3339 (and the cloudevents SDK's schema) rejects it.
    malformed(JSON.stringify({ ...attributes(), time: '2024-02-30T00:00:00Z' }), /"time"/);
    malformed(JSON.stringify({ ...attributes(), time: '2023-04-31T10:00:00Z' }), /"time"/);
    malformed(JSON.stringify({ ...attributes(), time: '2024-01-01T24:00:00Z' }), /"time"/);
  });

  it('checks every part of a timestamp: leap days, fractions, offsets, nothing after the zone', () => {
    const time = (t: string) => decodeEnvelope(JSON.stringify({ ...attributes(), time: t })).time;
    for (const ok of [
      '2024-02-29T00:00:00Z', // leap year
      '2000-02-29T23:59:59z', // divisible by 400
      '2024-06-30T12:34:56.123456789Z',
      '2024-06-30T12:34:56.1-23:59',
      '2024-12-31T00:00:00+00:00',
    ]) {
      assert.equal(time(ok), ok);
    }
    for (const bad of [
      '2023-02-29T00:00:00Z', // not a leap year
      '2100-02-29T00:00:00Z', // divisible by 100, not by 400
      '2024-06-31T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-06-00T00:00:00Z',
      '2024-06-30T12:60:00Z',
      '2024-06-30T12:00:60Z',
      '2024-06-30T12:34:56.Z', // a fraction needs a digit
      '2024-06-30T12:34:56+24:00',
      '2024-06-30T12:34:56+02:60',
      '2024-06-30T12:34:56+0200',
      '2024-06-30T12:34:56Zx',
      '2024-06-30T12:34:56+02:00x',
      '2024/06/30T12:34:56Z',
      '2024-06-30T12-34-56Z',
      '２０２４-06-30T12:34:56Z', // full-width digits
      '-024-06-30T12:34:56Z',
    ]) {
      malformed(
        JSON.stringify({ ...attributes(), time: bad }),
        /attribute "time" is not an RFC 3339 timestamp/,
      );
    }
  });

  it('rejects a sequence that is not a positive decimal integer string', () => {
    for (const sequence of ['0', '-1', '1.5', '01', 'abc', '1e3', ' 1']) {
      assert.throws(
        () => decodeEnvelope(JSON.stringify({ ...attributes(), sluiceseq: sequence })),
        (e: unknown) =>
          e instanceof MalformedEnvelopeError &&
          e.message.includes(
            `attribute "sluiceseq" must be a positive decimal integer, got ${JSON.stringify(sequence)}`,
          ),
      );
    }
    // The sequence extension is a String attribute; a JSON number is not accepted.
    malformed(
      JSON.stringify({ ...attributes(), sluiceseq: 7 }),
      /attribute "sluiceseq" must be a non-empty string, got 7/,
    );
  });

  it('never decodes a sequence to a different number than the one on the wire', () => {
    // 9007199254740993 (2^53 + 1) passes /^[1-9]\d{0,15}$/ but Number() rounds it to 9007199254740992.
    for (const sequence of ['9007199254740993', '9999999999999999']) {
      const raw = JSON.stringify({ ...attributes(), sluiceseq: sequence });
      let decoded: Envelope | undefined;
      try {
        decoded = decodeEnvelope(raw);
      } catch (e) {
        assert.ok(e instanceof MalformedEnvelopeError, String(e));
        continue;
      }
      assert.equal(
        String(decoded.sluiceseq),
        sequence,
        'a decoded sequence must equal the one on the wire, or be refused',
      );
    }
    assert.equal(
      decodeEnvelope(JSON.stringify({ ...attributes(), sluiceseq: '9007199254740991' })).sluiceseq,
      2 ** 53 - 1,
    );
  });

  it('rejects bytes that are not valid UTF-8', () => {
    const json = new TextEncoder().encode(encodeEnvelope(full));
    const bad = new Uint8Array([...json.subarray(0, 20), 0xff, 0xfe, ...json.subarray(20)]);
    malformed(bad, /the value is not valid UTF-8/);
    malformed(new Uint8Array([0xc3, 0x28]), /not valid UTF-8/); // truncated two-byte sequence
  });

  it('rejects an event without data', () => {
    const raw = attributes();
    delete raw['data'];
    malformed(JSON.stringify(raw), /the event has no "data"/);
  });

  it('rejects a null or missing message value (e.g. a tombstone)', () => {
    malformed(null, /the message has no value/);
    malformed(undefined, /the message has no value/);
  });

  it('rejects a datacontenttype other than application/json', () => {
    malformed(
      JSON.stringify({ ...attributes(), datacontenttype: 'text/plain' }),
      /datacontenttype must be application\/json, got "text\/plain"/,
    );
  });

  it('rejects an extension attribute that is not a string', () => {
    malformed(
      JSON.stringify({ ...attributes(), correlationid: 5 }),
      /attribute "correlationid" must be a string/,
    );
  });

  it('keeps the cause of a JSON or UTF-8 failure', () => {
    try {
      decodeEnvelope('nope');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof MalformedEnvelopeError);
      assert.ok(e.cause instanceof SyntaxError);
    }
  });
});

describe('toBinary / fromBinary', () => {
  it("encodes attributes as 'ce_' headers by default (Kafka binding) and the data as the body", () => {
    const m = toBinary(full);
    assert.deepEqual(m.headers, {
      ce_specversion: '1.0',
      ce_id: full.id,
      ce_source: full.source,
      ce_type: full.type,
      ce_time: full.time,
      ce_subject: full.subject,
      ce_dataschema: full.dataschema,
      ce_partitionkey: full.partitionkey,
      ce_sluiceseq: '7',
      ce_sluiceseqkind: 'counter',
      ce_traceparent: full.traceparent,
      ce_correlationid: full.correlationid,
      ce_causationid: full.causationid,
      'content-type': 'application/json',
    });
    assert.deepEqual(JSON.parse(m.body), full.data);
    assert.deepEqual(fromBinary(m.headers, m.body), full);
  });

  it("round-trips with the 'ce-' prefix (HTTP and NATS bindings)", () => {
    const m = toBinary(full, 'ce-');
    assert.ok(Object.keys(m.headers).every((h) => h === 'content-type' || h.startsWith('ce-')));
    assert.deepEqual(fromBinary(m.headers, m.body, 'ce-'), full);
  });

  it('omits absent extensions', () => {
    const m = toBinary(minimal);
    assert.ok(
      !('ce_traceparent' in m.headers) &&
        !('ce_correlationid' in m.headers) &&
        !('ce_causationid' in m.headers),
    );
    assert.deepEqual(fromBinary(m.headers, m.body), minimal);
  });

  it('matches header names case-insensitively, for the prefix as well', () => {
    const m = toBinary(full, 'ce-');
    const shouted = Object.fromEntries(
      Object.entries(m.headers).map(([k, v]) => [k === 'content-type' ? 'Content-Type' : k.toUpperCase(), v]),
    );
    assert.deepEqual(fromBinary(shouted, m.body, 'ce-'), full);
    assert.deepEqual(fromBinary(shouted, m.body, 'CE-'), full);
    const mixed = Object.fromEntries(
      Object.entries(toBinary(full).headers).map(([k, v]) => [`Ce_${k.slice(3)}`, v]),
    );
    assert.deepEqual(fromBinary(mixed, m.body), { ...full });
  });

  it('accepts a content-type with parameters and a missing content-type', () => {
    const m = toBinary(full);
    assert.deepEqual(
      fromBinary({ ...m.headers, 'content-type': 'application/json; charset=utf-8' }, m.body),
      full,
    );
    const { 'content-type': _ct, ...noContentType } = m.headers;
    assert.deepEqual(fromBinary(noContentType, m.body), full);
  });

  it('rejects a non-JSON content-type, a non-JSON body and missing attributes', () => {
    const m = toBinary(full);
    assert.throws(
      () => fromBinary({ ...m.headers, 'content-type': 'text/plain' }, m.body),
      /content-type must be application\/json, got "text\/plain"/,
    );
    assert.throws(
      () => fromBinary(m.headers, '{oops'),
      (e: unknown) => e instanceof MalformedEnvelopeError && /the body is not JSON/.test(e.message),
    );
    const { ce_id: _id, ...noId } = m.headers;
    assert.throws(
      () => fromBinary(noId, m.body),
      (e: unknown) =>
        e instanceof MalformedEnvelopeError && /required attribute "id" is missing/.test(e.message),
    );
    // Headers with the other binding's prefix are not attributes.
    assert.throws(
      () => fromBinary(toBinary(full, 'ce-').headers, m.body, 'ce_'),
      /required attribute "specversion" is missing/,
    );
    assert.throws(
      () => fromBinary({ ...m.headers, ce_sluiceseq: '0' }, m.body),
      /"sluiceseq" must be a positive decimal integer/,
    );
  });
});
