/**
 * The relay partition of an outbox key, as SQL: PostgreSQL's `hashtext` of the key, modulo the number of
 * partition rows. Every relay computes it in the same server, so they agree on which partition a key is in.
 */
export function partitionOfSql(keyExpr: string, countExpr: string): string {
  return `((hashtext(${keyExpr}) & 2147483647) % ${countExpr})::int`;
}
