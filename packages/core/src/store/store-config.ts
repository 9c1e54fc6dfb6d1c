import { InvalidOptionError } from '../errors.js';

/** The kinds of database that hold Sluice's tables (outbox, inbox, positions). */
export type StoreKind = 'sqlite' | 'postgres' | 'mysql';

/**
 * Which database holds Sluice's tables, as configuration (what `--db` and a config file name).
 *
 * - `sqlite`: the file at `path`, through `@sluice/sqlite`.
 * - `postgres`: the database at `url`, Sluice's tables in `schema` (default `sluice`), through `@sluice/postgres`.
 * - `mysql`: the MySQL or MariaDB server at `url`, Sluice's tables in `database` (default: the URL's database,
 *   else `sluice`), through `@sluice/mysql`.
 */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string }
  | { readonly kind: 'mysql'; readonly url: string; readonly database?: string };

/**
 * The kind of database a URL names: `postgres://` (or `postgresql://`) PostgreSQL, `mysql://` (or
 * `mariadb://`) MySQL / MariaDB, anything without a scheme (or `file:`) the path of a SQLite file. Any other
 * scheme is refused, never taken for a file name.
 */
export function storeKindOf(url: string): StoreKind {
  if (/^postgres(?:ql)?:\/\//i.test(url)) return 'postgres';
  if (/^(?:mysql|mariadb):\/\//i.test(url)) return 'mysql';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'file') {
    throw new InvalidOptionError(
      'createStore',
      'url',
      `${scheme}://… is not a database Sluice knows: use postgres://, mysql:// (or mariadb://) or the path of a SQLite file`,
    );
  }
  return 'sqlite';
}

/**
 * The {@link StoreConfig} a URL names (see {@link storeKindOf}); `schema` applies to PostgreSQL only.
 */
export function storeConfigOf(url: string, options: { schema?: string } = {}): StoreConfig {
  const kind = storeKindOf(url);
  if (kind === 'postgres')
    return { kind, url, ...(options.schema === undefined ? {} : { schema: options.schema }) };
  if (kind === 'mysql') return { kind, url };
  return { kind, path: url.replace(/^file:(?:\/\/)?/i, '') };
}
