import { type EventContext, encodeEnvelope, SluiceError } from '@sluice/core';
import { envelopeOf, type PreparedEvent } from '@sluice/core/adapter';

const MARKER = '"sluiceseq":"';
const PLACEHOLDER = 1;

/** The encoded envelope around its sequence number: `value = prefix + sequence + suffix`. */
export interface EnvelopeParts {
  readonly prefix: string;
  readonly suffix: string;
}

/**
 * Encodes the envelope with a placeholder sequence and splits it around the number, so the database can put in
 * the sequence it assigns in the same statement. Safe: the encoder writes every attribute before `data` and
 * JSON-escapes strings, so the first `"sluiceseq":"` is the attribute itself (inside a string value the quotes
 * would be escaped).
 */
export function splitEnvelope(event: PreparedEvent, source: string, context?: EventContext): EnvelopeParts {
  const text = encodeEnvelope(envelopeOf(event, source, PLACEHOLDER, context));
  const at = text.indexOf(MARKER);
  const digits = at + MARKER.length;
  if (at < 0 || !text.startsWith(`${PLACEHOLDER}"`, digits)) {
    throw new SluiceError(
      'SLUICE_VERSION_MISMATCH',
      'the envelope encoder no longer writes the "sluiceseq" attribute where @sluice/postgres expects it; use matching versions of @sluice/core and @sluice/postgres',
    );
  }
  return { prefix: text.slice(0, digits), suffix: text.slice(digits + String(PLACEHOLDER).length) };
}

/**
 * One round trip, inside the caller's transaction: take the key's next sequence (the upsert waits on the row
 * lock of an uncommitted append of the same key, so sequences are gap-free and follow commit order per key),
 * insert the event with the sequence spliced into its envelope, and, if a relay waits for appends
 * (`relay_waiter`), queue a notification that PostgreSQL delivers only if the transaction commits. A busy relay
 * needs none, and skipping it keeps concurrent commits from being serialized by NOTIFY's commit lock.
 *
 * Parameters: $1 source, $2 topic, $3 key, $4 id, $5 type, $6 envelope prefix, $7 envelope suffix, $8 channel.
 */
export function appendSql(schema: string): string {
  return `WITH next AS (
  INSERT INTO ${schema}.outbox_sequence AS s (source, topic, key, last) VALUES ($1, $2, $3, 1)
  ON CONFLICT (source, topic, key) DO UPDATE SET last = s.last + 1
  RETURNING last
), appended AS (
  INSERT INTO ${schema}.outbox (id, source, topic, key, type, sequence, value)
  SELECT $4::uuid, $1, $2, $3, $5, next.last, $6::text || next.last || $7::text FROM next
  RETURNING sequence
)
SELECT appended.sequence::text AS sequence,
  CASE WHEN EXISTS (SELECT 1 FROM ${schema}.relay_waiter WHERE until > statement_timestamp())
    THEN pg_notify($8, '')::text END AS notified
FROM appended`;
}
