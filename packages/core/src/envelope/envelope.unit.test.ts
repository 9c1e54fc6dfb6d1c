import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { MalformedEnvelopeError } from '../errors.js';
import { fromBinary, toBinary } from './binary.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';
import type { Envelope } from './envelope.js';
import { uuidv7, uuidv7Time } from './uuidv7.js';

const full: Envelope = {
  specversion: '1.0',
  id: '0190a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d',
  source: 'urn:service:enrollments',
  type: 'enrollment.created',
  time: '2024-06-30T12:34:56.789Z',
  subject: 'C-42',
  datacontenttype: 'application/json',
  dataschema: 'urn:sluice:contract:enrollment.created:v1',
  sequence: 7,
  sequencekind: 'counter',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  correlationid: 'corr-1',
  causationid: 'cmd-9',
  data: { courseId: 'C-42', student: { name: 'Zoë "Z" Ünal', tags: ['a', 'b'] }, seats: 3, note: null },
};

const { traceparent: _t, correlationid: _c, causationid: _k, sequencekind: _s, ...minimal } = full;

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

  it('carries sequencekind (counter or position) and refuses any other value', () => {
    assert.equal(attributes()['sequencekind'], 'counter');
    const position = { ...full, sequencekind: 'position' as const };
    assert.deepEqual(decodeEnvelope(encodeEnvelope(position)), position);
    assert.deepEqual(fromBinary(toBinary(position).headers, toBinary(position).body), position);
    for (const sequencekind of ['gapless', '', 1, 'Counter']) {
      malformed(
        JSON.stringify({ ...attributes(), sequencekind }),
        /attribute "sequencekind" must be "counter" or "position"/,
      );
    }
  });

  it('writes structured mode with sequence as a string and datacontenttype application/json', () => {
    const raw = attributes();
    assert.equal(raw['specversion'], '1.0');
    assert.equal(raw['sequence'], '7');
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
    for (const name of ['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema', 'sequence']) {
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
        () => decodeEnvelope(JSON.stringify({ ...attributes(), sequence })),
        (e: unknown) =>
          e instanceof MalformedEnvelopeError &&
          e.message.includes(
            `attribute "sequence" must be a positive decimal integer, got ${JSON.stringify(sequence)}`,
          ),
      );
    }
    // The sequence extension is a String attribute; a JSON number is not accepted.
    malformed(
      JSON.stringify({ ...attributes(), sequence: 7 }),
      /attribute "sequence" must be a non-empty string, got 7/,
    );
  });

  it('never decodes a sequence to a different number than the one on the wire', () => {
    // 9007199254740993 (2^53 + 1) passes /^[1-9]\d{0,15}$/ but Number() rounds it to 9007199254740992.
    for (const sequence of ['9007199254740993', '9999999999999999']) {
      const raw = JSON.stringify({ ...attributes(), sequence });
      let decoded: Envelope | undefined;
      try {
        decoded = decodeEnvelope(raw);
      } catch (e) {
        assert.ok(e instanceof MalformedEnvelopeError, String(e));
        continue;
      }
      assert.equal(
        String(decoded.sequence),
        sequence,
        'a decoded sequence must equal the one on the wire, or be refused',
      );
    }
    assert.equal(
      decodeEnvelope(JSON.stringify({ ...attributes(), sequence: '9007199254740991' })).sequence,
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
      ce_sequence: '7',
      ce_sequencekind: 'counter',
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
      () => fromBinary({ ...m.headers, ce_sequence: '0' }, m.body),
      /"sequence" must be a positive decimal integer/,
    );
  });
});

describe('interoperability with the cloudevents SDK', () => {
  function assertSameAttributes(ce: CloudEvent<unknown>, expected: Envelope): void {
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.id, expected.id);
    assert.equal(ce.source, expected.source);
    assert.equal(ce.type, expected.type);
    assert.equal(ce.time, expected.time);
    assert.equal(ce.subject, expected.subject);
    assert.equal(ce.dataschema, expected.dataschema);
    assert.equal(ce['sequence'], String(expected.sequence));
    assert.equal(ce['traceparent'], expected.traceparent);
    assert.equal(ce['correlationid'], expected.correlationid);
    assert.equal(ce['causationid'], expected.causationid);
    assert.deepEqual(ce.data, expected.data);
  }

  it('our structured JSON is a valid CloudEvent with the same attributes and the sequence extension', () => {
    const json = encodeEnvelope(full);
    const received = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json,
    });
    assert.ok(!Array.isArray(received));
    const ce = received as CloudEvent<unknown>;
    assert.equal(ce.validate(), true);
    assert.equal(ce.datacontenttype, 'application/json');
    assertSameAttributes(ce, full);
    // The strict constructor validates too.
    const strict = new CloudEvent(
      JSON.parse(json) as Record<string, unknown> & { type: string; source: string },
    );
    assertSameAttributes(strict, full);
  });

  it('a CloudEvent built by the SDK with our extensions decodes to the same values', () => {
    const ce = new CloudEvent({
      id: full.id,
      source: full.source,
      type: full.type,
      time: full.time,
      subject: full.subject,
      datacontenttype: 'application/json',
      dataschema: full.dataschema,
      sequence: '7',
      sequencekind: 'counter',
      traceparent: full.traceparent,
      correlationid: full.correlationid,
      causationid: full.causationid,
      data: full.data,
    });
    const message = HTTP.structured(ce);
    assert.equal(typeof message.body, 'string');
    assert.deepEqual(decodeEnvelope(message.body as string), full);
    assert.deepEqual(decodeEnvelope(ce.toString()), full);
  });

  it("our 'ce-' binary headers are accepted by HTTP.toEvent", () => {
    const m = toBinary(full, 'ce-');
    const received = HTTP.toEvent({ headers: { ...m.headers }, body: m.body });
    assert.ok(!Array.isArray(received));
    const ce = received as CloudEvent<unknown>;
    assert.equal(ce.validate(), true);
    assertSameAttributes(ce, full);
  });

  it("the SDK's binary HTTP message decodes with fromBinary(..., 'ce-')", () => {
    const ce = new CloudEvent({
      id: full.id,
      source: full.source,
      type: full.type,
      time: full.time,
      subject: full.subject,
      dataschema: full.dataschema,
      sequence: '7',
      data: full.data,
    });
    const m = HTTP.binary(ce);
    assert.deepEqual(fromBinary(m.headers as Record<string, string>, m.body as string, 'ce-'), minimal);
  });
});

describe('uuidv7', () => {
  const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('has version 7 and variant 10xx', () => {
    const variants = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuidv7();
      assert.match(id, FORMAT);
      assert.equal(id[14], '7');
      variants.add(id[19]!);
    }
    // 62 random bits: the variant nibble's two low bits are random too.
    assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
  });

  it('generates 10k ids in a tight loop in strictly increasing order', () => {
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7());
    for (let i = 1; i < ids.length; i++) {
      assert.ok(ids[i - 1]! < ids[i]!, `id ${i} (${ids[i]}) is not greater than id ${i - 1} (${ids[i - 1]})`);
    }
    assert.equal(new Set(ids).size, ids.length);
  });

  it('uuidv7Time returns the millisecond timestamp', () => {
    // RFC 9562 appendix A.6 example.
    assert.equal(uuidv7Time('017f22e2-79b0-7cc3-98c4-dc0c0c07398f'), 0x017f22e279b0);
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    const t = uuidv7Time(id);
    // The counter may borrow a millisecond or two after the 10k-id loop above.
    assert.ok(t >= before - 1 && t <= after + 10, `${t} not in [${before}, ${after}]`);
    const future = Date.now() + 60_000;
    assert.equal(uuidv7Time(uuidv7(future)), future);
  });

  it('stays increasing when the clock goes back, and borrows the next millisecond after 4096 ids', () => {
    const t = Date.now() + 120_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(t));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
    assert.equal(uuidv7Time(ids[0]!), t);
    assert.equal(uuidv7Time(ids[4095]!), t);
    assert.equal(uuidv7Time(ids[4096]!), t + 1);
    const earlier = uuidv7(t - 10_000);
    assert.ok(earlier > ids[ids.length - 1]!);
    assert.match(earlier, FORMAT);
  });
});
