import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudEvent, HTTP, Kafka, type KafkaMessage } from 'cloudevents';
import { fromBinary, toBinary } from './binary.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';
import { type Envelope, STRUCTURED_CONTENT_TYPE } from './envelope.js';
import { fullEnvelope, minimalEnvelope } from './envelope-fixtures.test-support.js';

const full = fullEnvelope;
const minimal = minimalEnvelope;

describe('interoperability with the cloudevents SDK', () => {
  function assertSameAttributes(ce: CloudEvent<unknown>, expected: Envelope): void {
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.id, expected.id);
    assert.equal(ce.source, expected.source);
    assert.equal(ce.type, expected.type);
    assert.equal(ce.time, expected.time);
    assert.equal(ce.subject, expected.subject);
    assert.equal(ce.dataschema, expected.dataschema);
    assert.equal(ce['partitionkey'], expected.partitionkey);
    assert.equal(ce['sluiceseq'], String(expected.sluiceseq));
    assert.equal(ce['sluiceseqkind'], expected.sluiceseqkind);
    assert.equal(ce['sequence'], undefined, 'Sluice does not write the CloudEvents sequence extension');
    assert.equal(ce['traceparent'], expected.traceparent);
    assert.equal(ce['correlationid'], expected.correlationid);
    assert.equal(ce['causationid'], expected.causationid);
    assert.deepEqual(ce.data, expected.data);
  }

  it("our structured JSON is a valid CloudEvent with the same attributes and Sluice's extensions", () => {
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

  it('the attributes of a fact published as several versions (sluicefact, sluicefactschemas) are valid extensions', () => {
    const versioned: Envelope = {
      ...full,
      sluicefact: full.id,
      sluicefactschemas:
        'urn:sluice:contract:enrollment.created:v1 urn:sluice:contract:enrollment.created:v2',
    };
    const received = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: encodeEnvelope(versioned),
    }) as CloudEvent<unknown>;
    assert.equal(received.validate(), true);
    assert.equal(received['sluicefact'], versioned.sluicefact);
    assert.equal(received['sluicefactschemas'], versioned.sluicefactschemas);
    assert.deepEqual(decodeEnvelope(encodeEnvelope(versioned)), versioned);
    const binary = toBinary(versioned, 'ce-');
    assert.deepEqual(fromBinary(binary.headers, binary.body, 'ce-'), versioned);
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
      sluiceseq: '7',
      sluiceseqkind: 'counter',
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
      sluiceseq: '7',
      data: full.data,
    });
    const m = HTTP.binary(ce);
    assert.deepEqual(fromBinary(m.headers as Record<string, string>, m.body as string, 'ce-'), minimal);
  });
});

/** A Kafka record as the SDK's binding reads it. */
function kafkaRecord(value: string, headers: Record<string, string>): KafkaMessage<string> {
  return { key: full.partitionkey, value, headers, body: value };
}

describe('the Kafka binding of the cloudevents SDK', () => {
  it('Kafka.toEvent reads our structured record: value, content-type header, key = partitionkey', () => {
    const message = kafkaRecord(encodeEnvelope(full), { 'content-type': STRUCTURED_CONTENT_TYPE });
    assert.equal(Kafka.isEvent(message), true);
    const ce = Kafka.toEvent(message) as CloudEvent<unknown>;
    assert.equal(ce.validate(), true);
    assert.equal(ce.id, full.id);
    assert.equal(ce['partitionkey'], full.partitionkey);
    assert.equal(ce['sluiceseq'], '7');
    assert.equal(ce['sluiceseqkind'], 'counter');
    assert.deepEqual(ce.data, full.data);
    assert.deepEqual(decodeEnvelope(ce.toString()), full);
  });

  it('without the content-type header the SDK finds no CloudEvent (why every transport writes it)', () => {
    assert.throws(() => Kafka.toEvent(kafkaRecord(encodeEnvelope(full), {})), /No CloudEvent detected/);
  });

  it("the SDK's own structured Kafka message decodes with decodeEnvelope", () => {
    const ce = new CloudEvent(
      JSON.parse(encodeEnvelope(full)) as Record<string, unknown> & { type: string; source: string },
    );
    const m = Kafka.structured(ce);
    assert.equal(m.key, full.partitionkey);
    assert.deepEqual(decodeEnvelope(m.value as string), full);
  });
});

describe('records written before sluiceseq and partitionkey existed', () => {
  /** What encodeEnvelope wrote before: `sequence` (a String) and `sequencekind`, no `partitionkey`. */
  function legacy(extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
      specversion: '1.0',
      id: full.id,
      source: full.source,
      type: full.type,
      time: full.time,
      subject: full.subject,
      datacontenttype: 'application/json',
      dataschema: full.dataschema,
      sequence: '7',
      ...extra,
      traceparent: full.traceparent,
      correlationid: full.correlationid,
      causationid: full.causationid,
      data: full.data,
    });
  }

  it('decode to the same envelope: sequence is sluiceseq, sequencekind sluiceseqkind, the subject the partitionkey', () => {
    assert.deepEqual(decodeEnvelope(legacy({ sequencekind: 'counter' })), full);
    const { sluiceseqkind: _, ...noKind } = full;
    assert.deepEqual(decodeEnvelope(legacy()), noKind, 'no kind stays absent (read as position)');
    assert.deepEqual(decodeEnvelope(legacy({ sequencekind: 'position' })), {
      ...full,
      sluiceseqkind: 'position',
    });
  });

  it('are checked as strictly as new ones, naming the old attribute', () => {
    assert.throws(
      () => decodeEnvelope(legacy({ sequence: '0' })),
      /attribute "sequence" must be a positive decimal integer/,
    );
    assert.throws(
      () => decodeEnvelope(legacy({ sequencekind: 'gapless' })),
      /attribute "sequencekind" must be "counter" or "position"/,
    );
  });

  it('a record with sluiceseq ignores a foreign sequence attribute (the CloudEvents extension, per source)', () => {
    const raw = { ...(JSON.parse(encodeEnvelope(full)) as Record<string, unknown>), sequence: 'a-0001' };
    assert.deepEqual(decodeEnvelope(JSON.stringify(raw)), full);
  });

  it('re-encode in the new format', () => {
    const raw = JSON.parse(encodeEnvelope(decodeEnvelope(legacy({ sequencekind: 'counter' })))) as Record<
      string,
      unknown
    >;
    assert.equal(raw['sluiceseq'], '7');
    assert.equal(raw['partitionkey'], full.subject);
    assert.ok(!('sequence' in raw) && !('sequencekind' in raw));
  });
});
