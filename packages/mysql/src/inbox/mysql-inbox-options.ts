import { InvalidOptionError } from '@sluice/core';
import { checkIdentifier } from '../identifier.js';

/** Options of `createMysqlInbox`. */
export interface MysqlInboxOptions {
  /** The database holding Sluice's tables (`sluice_*`). Default: the pool's current database. */
  readonly database?: string;
  /** Run pending migrations now instead of requiring `sluice migrate`. Default false. */
  readonly migrate?: boolean;
}

/** The options with every default filled in, frozen (`database` stays optional until the store resolves it). */
export interface ResolvedMysqlInboxOptions {
  readonly database: string | undefined;
  readonly migrate: boolean;
}

const COMPONENT = 'mysql inbox';

/** Defaults and validation (naming the offending field); the result is frozen. */
export function resolveMysqlInboxOptions(options: MysqlInboxOptions = {}): ResolvedMysqlInboxOptions {
  const database =
    options?.database === undefined ? undefined : checkIdentifier(COMPONENT, 'database', options.database);
  if (options?.migrate !== undefined && typeof options.migrate !== 'boolean') {
    throw new InvalidOptionError(
      COMPONENT,
      'migrate',
      `must be true or false, got ${JSON.stringify(options.migrate)}`,
    );
  }
  return Object.freeze({ database, migrate: options?.migrate ?? false });
}
