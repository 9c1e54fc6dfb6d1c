import { storeKindOf as kindOf, SluiceError, type StoreKind } from '@sluice/core';
import { UsageError } from './options.js';

/**
 * What `--db` names (core's `storeKindOf`): `postgres://` a PostgreSQL database, `mysql://` (or `mariadb://`) a
 * MySQL / MariaDB one, anything without a scheme the path of a SQLite file. Any other scheme is a usage
 * error that speaks of `--db`, never taken for a file name.
 */
export function storeKindOf(db: string): StoreKind {
  try {
    return kindOf(db);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1] ?? db;
    throw new UsageError(
      `--db ${scheme}://… is not a database Sluice knows: use postgres://, mysql:// (or mariadb://) or the path of a SQLite file`,
    );
  }
}
