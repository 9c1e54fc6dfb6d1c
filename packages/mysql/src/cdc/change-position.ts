import { type Gtid, parseGtid, parseGtidPosition } from './gtid-position.js';

/**
 * The `position` of one change: the GTID position before its transaction, the transaction's GTID and the
 * change's index in it, `<before>/<gtid>#<index>`. Acknowledging it stores `<before>` (the transaction is read
 * again after a restart) unless it is the transaction's last change, which stores the position after it.
 */
export interface ChangePosition {
  readonly before: string;
  readonly gtid: string;
  readonly index: number;
}

export function formatChangePosition(p: ChangePosition): string {
  return `${p.before}/${p.gtid}#${p.index}`;
}

/** Parses a change's position; undefined if it is not one this source made. */
export function parseChangePosition(text: string): ChangePosition | undefined {
  const m = /^([0-9,-]*)\/([0-9-]+)#(\d+)$/.exec(text);
  if (m === null || parseGtidPosition(m[1]!) === undefined || parseGtid(m[2]!) === undefined)
    return undefined;
  return { before: m[1]!, gtid: m[2]!, index: Number(m[3]) };
}

/**
 * How many transactions `position` is past `than`, summed over domains (a domain `than` lacks counts its whole
 * sequence); 0 when it is not ahead at all.
 */
export function transactionsAhead(position: string, than: string | undefined): bigint {
  const a = parseGtidPosition(position) ?? new Map<number, Gtid>();
  const b = parseGtidPosition(than ?? '') ?? new Map<number, Gtid>();
  let ahead = 0n;
  for (const g of a.values()) {
    const d = g.sequence - (b.get(g.domain)?.sequence ?? 0n);
    if (d > 0n) ahead += d;
  }
  return ahead;
}
