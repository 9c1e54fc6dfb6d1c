import type pg from 'pg';
import type { PeerOutbox } from './peer-outbox.js';

/**
 * Queues `events` outbox messages of the peer over `keys` aggregate ids (each its `segment`), with the same
 * payloads as Sluice's EnrollmentProgressed events, 10,000 per `INSERT ... SELECT FROM unnest(...)`
 * transaction, so its replication listener receives them from the slot's WAL.
 */
export async function fillPeerOutbox(
  pool: pg.Pool,
  peer: PeerOutbox,
  events: number,
  keys: number,
  chunk = 10_000,
): Promise<void> {
  const keyIds = Array.from({ length: keys }, () => crypto.randomUUID());
  for (let from = 0; from < events; from += chunk) {
    const ids: string[] = [];
    const rowKeys: string[] = [];
    const payloads: string[] = [];
    for (let i = from; i < Math.min(events, from + chunk); i++) {
      const key = keyIds[i % keys]!;
      ids.push(crypto.randomUUID());
      rowKeys.push(key);
      payloads.push(JSON.stringify({ enrollmentId: key, progress: i % 101 }));
    }
    await pool.query(
      `INSERT INTO "${peer.schema}"."${peer.table}" (id, aggregate_type, aggregate_id, message_type, segment, payload, created_at)
SELECT u.id, 'enrollment', u.key, 'enrollment.progressed', u.key, u.payload::jsonb, clock_timestamp()
FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS u(id, key, payload, n)
ORDER BY u.n`,
      [ids, rowKeys, payloads],
    );
  }
}
