import assert from 'node:assert/strict';
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  type OutgoingRecord,
  type Transport,
} from '@sluice/core';
import { envelopeOf, prepareEvent } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { CloudEvent, Kafka } from 'cloudevents';

/** One record as it is stored on the broker, read with the broker's own client rather than the transport. */
export interface RawRecord {
  /** The record key (Kafka key, the NATS `Sluice-Key` header decoded, the Redis `k` field, the log's `key`). */
  readonly key: string;
  /** The record value: for an event, the CloudEvent in JSON (structured mode). */
  readonly value: string;
  /** The broker's headers of the record, every one of them (for Redis and the log: the record's own headers). */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Reads what a transport stored, bypassing it: the CloudEvents case checks each record as a consumer that
 * knows only the CloudEvents binding (or, for stores without one, the documented layout in docs/cloudevents.md).
 */
export interface RawReader {
  /**
   * How a CloudEvents consumer reads this store: `kafka` through the cloudevents SDK's Kafka binding
   * (`Kafka.toEvent`), `nats` by the NATS binding's structured mode (a `content-type` header of
   * `application/cloudevents+json` and the event as the body), `layout` (Redis, the embedded log, memory: no
   * binding) by the value being the event in JSON.
   */
  readonly binding: 'kafka' | 'nats' | 'layout';
  /** Every record of `topic` (all partitions), in any order. */
  read(topic: string): Promise<RawRecord[]>;
}

const TOPIC = 'cloudevents';
const SOURCE = 'urn:service:conformance';
const KEYS = 6;
const PER_KEY = 10;

/** The events the case publishes: 60 over 6 keys, counters and positions, with and without context. */
function events(): Envelope[] {
  const out: Envelope[] = [];
  for (let k = 0; k < KEYS; k++) {
    const enrollmentId = `0190a5c2-7a1e-7000-8000-0000000000${String(10 + k)}`;
    for (let n = 1; n <= PER_KEY; n++) {
      const context =
        n % 3 === 0
          ? {
              traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
              correlationid: `corr-${k}`,
              causationid: `cause-${n}`,
            }
          : undefined;
      const envelope = envelopeOf(
        prepareEvent(EnrollmentProgressed, { enrollmentId, progress: n }),
        SOURCE,
        n,
        context,
      );
      // Keys 4 and 5 are a change source's: commit positions, which skip and may exceed 2^31.
      out.push(
        k < 4 ? envelope : { ...envelope, sluiceseq: 3_000_000_000 + n * 7, sluiceseqkind: 'position' },
      );
    }
  }
  return out;
}

/** The CloudEvent a consumer that knows only the binding gets from `raw`. */
function toCloudEvent(binding: RawReader['binding'], raw: RawRecord): CloudEvent<unknown> {
  if (binding === 'kafka') {
    const message = { key: raw.key, value: raw.value, headers: { ...raw.headers }, body: raw.value };
    assert.ok(
      Kafka.isEvent(message),
      `Kafka.isEvent: no CloudEvent detected in ${JSON.stringify(raw.headers)}`,
    );
    const event = Kafka.toEvent(message);
    assert.ok(!Array.isArray(event), 'Kafka.toEvent read a batch');
    const ce = event as CloudEvent<unknown>;
    assert.equal(ce.validate(), true);
    return ce;
  }
  if (binding === 'nats') {
    const contentType = Object.entries(raw.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    assert.match(
      contentType ?? '',
      /^application\/cloudevents\+json(;|$)/,
      'a NATS structured-mode message says so in content-type',
    );
  }
  // Strict: the SDK validates every attribute against the CloudEvents 1.0 schema and the type system.
  return new CloudEvent(JSON.parse(raw.value) as ConstructorParameters<typeof CloudEvent>[0], true);
}

/**
 * Publishes 60 events and a dead-letter-like record (an event with a header of its own), reads every record back
 * raw, and checks each through the official cloudevents SDK: id, source, type, subject, `partitionkey` (equal to
 * the record key), `sluiceseq`, `sluiceseqkind`, the context extensions and the data; and that no `sequence`
 * attribute is written. Sluice's own decoder must read the same event.
 */
export async function checkRecordsAreCloudEvents(t: Transport, raw: RawReader): Promise<void> {
  await t.ensureTopic({ name: TOPIC, kind: 'event', partitions: 3 });
  const sent = events();
  const records: OutgoingRecord[] = sent.map((e) => ({
    topic: TOPIC,
    key: e.partitionkey,
    value: encodeEnvelope(e),
    id: e.id,
  }));
  records[0] = { ...records[0]!, headers: { 'x-sluice-reason': 'kept beside the content type' } };
  await t.publish(records);

  const stored = await raw.read(TOPIC);
  assert.equal(stored.length, sent.length, 'every record published is stored');
  const byId = new Map(sent.map((e) => [e.id, e]));
  const seen = new Set<string>();
  for (const r of stored) {
    const ce = toCloudEvent(raw.binding, r);
    const expected = byId.get(ce.id);
    assert.ok(expected, `record ${ce.id} was not published`);
    seen.add(ce.id);
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.source, expected.source);
    assert.equal(ce.type, expected.type);
    assert.equal(ce.subject, expected.subject);
    assert.equal(ce.time, expected.time);
    assert.equal(ce.datacontenttype, 'application/json');
    assert.equal(ce.dataschema, expected.dataschema);
    assert.equal(ce['partitionkey'], expected.subject, 'partitionkey is the key');
    assert.equal(r.key, expected.subject, 'the record key is the partitionkey');
    assert.equal(ce['sluiceseq'], String(expected.sluiceseq), 'sluiceseq is a String');
    assert.equal(ce['sluiceseqkind'], expected.sluiceseqkind);
    assert.equal(ce['sequence'], undefined, "Sluice's counter is not the CloudEvents sequence");
    assert.equal(ce['traceparent'], expected.traceparent);
    assert.equal(ce['correlationid'], expected.correlationid);
    assert.equal(ce['causationid'], expected.causationid);
    assert.deepEqual(ce.data, expected.data);
    assert.deepEqual(decodeEnvelope(r.value), expected, 'Sluice reads the same event');
    if (expected.id === sent[0]!.id) {
      assert.equal(r.headers['x-sluice-reason'], 'kept beside the content type', 'own headers are kept');
    }
  }
  assert.equal(seen.size, sent.length, 'each event once');
}
