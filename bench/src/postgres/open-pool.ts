import pg from 'pg';

/** A `pg` pool on `url`; errors of idle connections (a backend terminated at teardown) are ignored. */
export function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}
