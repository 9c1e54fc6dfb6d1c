import type { RelayLease } from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';
import { inReadCommitted, type MysqlPool, queryRows } from '../mysql-client.js';

/**
 * Leases on the outbox's key-hash partitions (`sluice_relay_partition`), shared evenly by the live relay
 * instances (`sluice_relay_member`). One short READ COMMITTED transaction per renewal:
 *
 * 1. heartbeat this owner's membership;
 * 2. renew every partition it still owns (an expired one too, if nobody took it meanwhile);
 * 3. if it owns more than its share (partitions / live members, rounded up), give the highest ones up, so a
 *    newcomer gets them at its next renewal;
 * 4. if it owns fewer, claim partitions that are free or whose owner let the lease expire (`FOR UPDATE SKIP
 *    LOCKED`, so concurrent claimers never wait on each other).
 *
 * Times are the database's clock (`NOW(3)`), so relays on different hosts agree on expiry. Taking an expired
 * lease while its old owner is still finishing a batch can duplicate events (consumers de-duplicate) but cannot
 * reorder a key's first deliveries: both publish the key's events in sequence order, each starting after what
 * was acknowledged.
 */
export class PartitionLease {
  readonly #pool: MysqlPool;
  readonly #table: string;
  readonly #sql: ReturnType<typeof leaseSql>;

  constructor(pool: MysqlPool, database: string, table: string) {
    this.#pool = pool;
    this.#table = table;
    this.#sql = leaseSql(database);
  }

  async acquire(owner: string, ttlMs: number): Promise<RelayLease> {
    const ttlUs = Math.round(ttlMs * 1000);
    try {
      return await inReadCommitted(this.#pool, async (conn) => {
        await conn.query(this.#sql.heartbeat, [owner, ttlUs]);
        const counts = (
          await queryRows<{ members: number | string; total: number | string }>(conn, this.#sql.counts)
        )[0]!;
        const members = Number(counts.members);
        const total = Number(counts.total);
        await conn.query(this.#sql.renew, [ttlUs, owner]);
        const owned = async () =>
          (await queryRows<{ partition: number }>(conn, this.#sql.owned, [owner]))
            .map((r) => Number(r.partition))
            .sort((x, y) => x - y);
        let mine = await owned();
        const share = Math.ceil(total / Math.max(1, members));
        if (mine.length > share) {
          await conn.query(this.#sql.giveUp, [owner, mine.slice(share)]);
          mine = mine.slice(0, share);
        } else if (mine.length < share) {
          const free = (
            await queryRows<{ partition: number }>(conn, this.#sql.free, [share - mine.length])
          ).map((r) => Number(r.partition));
          if (free.length > 0) {
            // Claim only what is still free when the UPDATE locks it: the SKIP LOCKED read alone let two relays
            // starting together both take every partition on MariaDB 10.11 (seen in the two-relay test).
            await conn.query(this.#sql.claim, [owner, ttlUs, free]);
            mine = await owned();
          }
        }
        return { partitions: mine, partitionCount: total };
      });
    } catch (error) {
      throw toSluiceError(
        error,
        `taking relay partition leases in ${this.#table}`,
        `${this.#table} is missing`,
      );
    }
  }

  async release(owner: string): Promise<void> {
    try {
      await inReadCommitted(this.#pool, async (conn) => {
        await conn.query(this.#sql.release, [owner]);
        await conn.query(this.#sql.leave, [owner]);
      });
    } catch (error) {
      throw toSluiceError(
        error,
        `releasing relay partition leases in ${this.#table}`,
        `${this.#table} is missing`,
      );
    }
  }
}

function leaseSql(d: string) {
  const until = 'TIMESTAMPADD(MICROSECOND, ?, NOW(3))';
  const p = `${d}.sluice_relay_partition`;
  return {
    heartbeat: `INSERT INTO ${d}.sluice_relay_member (owner, expires_at) VALUES (?, ${until})
ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)`,
    counts: `SELECT (SELECT COUNT(*) FROM ${d}.sluice_relay_member WHERE expires_at > NOW(3)) AS members,
  (SELECT COUNT(*) FROM ${p}) AS total`,
    renew: `UPDATE ${p} SET expires_at = ${until} WHERE owner = ?`,
    owned: `SELECT \`partition\` FROM ${p} WHERE owner = ?`,
    giveUp: `UPDATE ${p} SET owner = NULL, expires_at = NULL WHERE owner = ? AND \`partition\` IN (?)`,
    free: `SELECT \`partition\` FROM ${p} WHERE owner IS NULL OR expires_at < NOW(3)
ORDER BY \`partition\` LIMIT ? FOR UPDATE SKIP LOCKED`,
    claim: `UPDATE ${p} SET owner = ?, expires_at = ${until}
WHERE \`partition\` IN (?) AND (owner IS NULL OR expires_at < NOW(3))`,
    release: `UPDATE ${p} SET owner = NULL, expires_at = NULL WHERE owner = ?`,
    leave: `DELETE FROM ${d}.sluice_relay_member WHERE owner = ? OR expires_at < NOW(3) - INTERVAL 1 HOUR`,
  };
}
