import type { RelayLease } from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';
import { checkOut, type PgPool } from '../pg-client.js';

/**
 * Leases on the outbox's key-hash partitions (`relay_partition`), shared evenly by the live relay instances
 * (`relay_member`). One short transaction per renewal:
 *
 * 1. heartbeat this owner's membership;
 * 2. renew every partition it still owns (an expired one too, if nobody took it meanwhile: nobody else can
 *    have published it without owning it first);
 * 3. if it owns more than its share (partitions / live members, rounded up), give the highest ones up, so a
 *    newcomer gets them at its next renewal;
 * 4. if it owns fewer, claim partitions that are free or whose owner let the lease expire (`SKIP LOCKED`, so
 *    concurrent claimers never wait on each other).
 *
 * Times are the database's clock, so relays on different hosts agree on expiry. Taking an expired lease while
 * its old owner is still finishing a batch can duplicate events (consumers de-duplicate) but cannot reorder a
 * key's first deliveries: both publish the key's events in sequence order, each starting after what was
 * acknowledged.
 */
export class PartitionLease {
  readonly #pool: PgPool;
  readonly #table: string;
  readonly #sql: ReturnType<typeof leaseSql>;

  constructor(pool: PgPool, schema: string, table: string) {
    this.#pool = pool;
    this.#table = table;
    this.#sql = leaseSql(schema);
  }

  async acquire(owner: string, ttlMs: number): Promise<RelayLease> {
    let conn: Awaited<ReturnType<typeof checkOut>> | undefined;
    let broken: Error | undefined;
    try {
      conn = await checkOut(this.#pool);
      const client = conn.client;
      await client.query('BEGIN');
      await client.query(this.#sql.heartbeat, [owner, ttlMs]);
      const counts = (await client.query<{ members: number; total: number }>(this.#sql.counts)).rows[0]!;
      let mine = (await client.query<{ partition: number }>(this.#sql.renew, [owner, ttlMs])).rows
        .map((r) => r.partition)
        .sort((a, b) => a - b);
      const share = Math.ceil(counts.total / Math.max(1, counts.members));
      if (mine.length > share) {
        await client.query(this.#sql.giveUp, [owner, mine.slice(share)]);
        mine = mine.slice(0, share);
      } else if (mine.length < share) {
        const claimed = (
          await client.query<{ partition: number }>(this.#sql.claim, [owner, ttlMs, share - mine.length])
        ).rows.map((r) => r.partition);
        mine = [...mine, ...claimed].sort((a, b) => a - b);
      }
      await client.query('COMMIT');
      return { partitions: mine, partitionCount: counts.total };
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await conn?.client.query('ROLLBACK').catch(() => undefined);
      throw toSluiceError(
        error,
        `taking relay partition leases in ${this.#table}`,
        `${this.#table} is missing`,
      );
    } finally {
      conn?.release(broken);
    }
  }

  async release(owner: string): Promise<void> {
    try {
      await this.#pool.query(this.#sql.release, [owner]);
    } catch (error) {
      throw toSluiceError(
        error,
        `releasing relay partition leases in ${this.#table}`,
        `${this.#table} is missing`,
      );
    }
  }
}

function leaseSql(s: string) {
  const until = `now() + $2::double precision * interval '1 millisecond'`;
  return {
    heartbeat: `INSERT INTO ${s}.relay_member AS m (owner, expires_at) VALUES ($1, ${until})
ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at`,
    counts: `SELECT (SELECT count(*) FROM ${s}.relay_member WHERE expires_at > now())::int AS members,
  (SELECT count(*) FROM ${s}.relay_partition)::int AS total`,
    renew: `UPDATE ${s}.relay_partition SET expires_at = ${until} WHERE owner = $1 RETURNING partition`,
    giveUp: `UPDATE ${s}.relay_partition SET owner = NULL, expires_at = NULL
WHERE owner = $1 AND partition = ANY ($2::int[])`,
    claim: `UPDATE ${s}.relay_partition p SET owner = $1, expires_at = ${until}
FROM (
  SELECT partition FROM ${s}.relay_partition
  WHERE owner IS NULL OR expires_at < now()
  ORDER BY partition
  LIMIT $3
  FOR UPDATE SKIP LOCKED
) free
WHERE p.partition = free.partition
RETURNING p.partition`,
    release: `WITH parts AS (
  UPDATE ${s}.relay_partition SET owner = NULL, expires_at = NULL WHERE owner = $1
)
DELETE FROM ${s}.relay_member WHERE owner = $1 OR expires_at < now() - interval '1 hour'`,
  };
}
