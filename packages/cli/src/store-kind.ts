import { UsageError } from './options.js';

/** The kinds of database `--db` can name. */
export type StoreKind = 'sqlite' | 'postgres' | 'mysql';

/**
 * What `--db` names: `postgres://` (or `postgresql://`) a PostgreSQL database, `mysql://` (or `mariadb://`) a
 * MySQL / MariaDB database, anything without a scheme the path of a SQLite file. Any other scheme is a usage
 * error, never taken for a file name.
 */
export function storeKindOf(db: string): StoreKind {
  if (/^postgres(?:ql)?:\/\//i.test(db)) return 'postgres';
  if (/^(?:mysql|mariadb):\/\//i.test(db)) return 'mysql';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1];
  if (scheme !== undefined) {
    throw new UsageError(
      `--db ${scheme}://… is not a database Sluice knows: use postgres://, mysql:// (or mariadb://) or the path of a SQLite file`,
    );
  }
  return 'sqlite';
}
