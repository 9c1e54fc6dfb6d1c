import { randomBytes } from 'node:crypto';
import type pg from 'pg';

/** A schema name no other benchmark (or run) uses: `<prefix>_<12 hex digits>`. */
export function benchSchemaName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops the schema and everything in it; never throws (teardown). */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch((error: unknown) => {
    console.error(`  warning: could not drop schema ${schema}: ${String(error)}`);
  });
}
