import { encodeEnvelope } from '@sluice/core';
import { envelopeOf, prepareEvent } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import type pg from 'pg';

/**
 * Queues `events` EnrollmentProgressed events over `keys` keys in Sluice's outbox in `schema`, fast: the same
 * rows `append` writes (validated, enveloped, each key's sequence 1, 2, 3...), but inserted 10,000 per
 * statement (`INSERT ... SELECT FROM unnest(...)`), and each key's last sequence recorded as `append` would.
 */
export async function fillSluiceOutbox(
  pool: pg.Pool,
  schema: string,
  source: string,
  events: number,
  keys: number,
  chunk = 10_000,
): Promise<void> {
  const s = `"${schema}"`;
  const keyIds = Array.from({ length: keys }, () => crypto.randomUUID());
  for (let from = 0; from < events; from += chunk) {
    const ids: string[] = [];
    const rowKeys: string[] = [];
    const sequences: number[] = [];
    const values: string[] = [];
    for (let i = from; i < Math.min(events, from + chunk); i++) {
      const key = keyIds[i % keys]!;
      const sequence = Math.floor(i / keys) + 1;
      const event = prepareEvent(EnrollmentProgressed, { enrollmentId: key, progress: i % 101 });
      ids.push(event.id);
      rowKeys.push(key);
      sequences.push(sequence);
      values.push(encodeEnvelope(envelopeOf(event, source, sequence)));
    }
    await pool.query(
      `INSERT INTO ${s}.outbox (id, source, topic, key, type, sequence, value)
SELECT u.id, $5, $6, u.key, $7, u.sequence, u.value
FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS u(id, key, sequence, value, n)
ORDER BY u.n`,
      [ids, rowKeys, sequences, values, source, EnrollmentProgressed.topic.name, EnrollmentProgressed.type],
    );
  }
  await pool.query(
    `INSERT INTO ${s}.outbox_sequence AS q (source, topic, key, last)
SELECT source, topic, key, max(sequence) FROM ${s}.outbox GROUP BY source, topic, key
ON CONFLICT (source, topic, key) DO UPDATE SET last = greatest(q.last, excluded.last)`,
  );
  await pool.query(`ANALYZE ${s}.outbox`);
}
