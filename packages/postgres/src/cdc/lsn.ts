/** A PostgreSQL LSN (`16/B374D848`) as a number: exact up to 2^53 bytes of WAL. */
export function lsnToNumber(lsn: string): number {
  const slash = lsn.indexOf('/');
  if (slash < 1) throw new Error(`not an LSN: ${lsn}`);
  const hi = Number.parseInt(lsn.slice(0, slash), 16);
  const lo = Number.parseInt(lsn.slice(slash + 1), 16);
  if (!Number.isFinite(hi) || !Number.isFinite(lo)) throw new Error(`not an LSN: ${lsn}`);
  return hi * 2 ** 32 + lo;
}

/** The LSN text of a number (`lsnToNumber`'s inverse). */
export function numberToLsn(value: number): string {
  const hi = Math.floor(value / 2 ** 32);
  const lo = value - hi * 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}
