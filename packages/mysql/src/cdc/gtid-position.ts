/**
 * MariaDB GTID positions (`@@gtid_binlog_pos`, `@slave_connect_state`): a comma-separated list of the last
 * transaction applied per replication domain, each `domain-server-sequence`. A reader resumes after them.
 */

/** One GTID, `domain-server-sequence`. */
export interface Gtid {
  readonly domain: number;
  readonly server: number;
  readonly sequence: bigint;
}

const GTID = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/;

/** Parses `domain-server-sequence`; undefined if it is not one. */
export function parseGtid(text: string): Gtid | undefined {
  const m = GTID.exec(text.trim());
  if (m === null) return undefined;
  return { domain: Number(m[1]), server: Number(m[2]), sequence: BigInt(m[3]!) };
}

/** Parses a GTID position ('' is the empty position: nothing read yet); undefined if it is not one. */
export function parseGtidPosition(text: string): Map<number, Gtid> | undefined {
  const out = new Map<number, Gtid>();
  const trimmed = text.trim();
  if (trimmed === '') return out;
  for (const part of trimmed.split(',')) {
    const gtid = parseGtid(part);
    if (gtid === undefined || out.has(gtid.domain)) return undefined;
    out.set(gtid.domain, gtid);
  }
  return out;
}

/** The position as MariaDB writes it: domains in ascending order. */
export function formatGtidPosition(position: ReadonlyMap<number, Gtid>): string {
  return [...position.values()]
    .sort((a, b) => a.domain - b.domain)
    .map((g) => `${g.domain}-${g.server}-${g.sequence}`)
    .join(',');
}

/** `position` after the transaction `gtid`: its domain's entry replaced. */
export function advanceGtidPosition(position: string, gtid: string): string {
  const map = parseGtidPosition(position) ?? new Map<number, Gtid>();
  const g = parseGtid(gtid);
  if (g === undefined) return position;
  map.set(g.domain, g);
  return formatGtidPosition(map);
}

/**
 * The first domain in which `oldest` (the position at the start of the oldest binlog the server still has) is
 * past `position`: transactions after `position` and up to `oldest` are no longer readable. Undefined if every
 * transaction after `position` is still on the server.
 */
export function purgedDomain(position: string, oldest: string): number | undefined {
  const from = parseGtidPosition(position) ?? new Map<number, Gtid>();
  for (const o of (parseGtidPosition(oldest) ?? new Map<number, Gtid>()).values()) {
    const f = from.get(o.domain);
    if (f === undefined || f.sequence < o.sequence) return o.domain;
  }
  return undefined;
}
