import { InvalidOptionError } from '@sluice/core';
import { checkIdentifier } from '../identifier.js';
import { DEFAULT_SCHEMA } from '../migrations/migrate.js';

/** Options of `createPostgresInbox`. */
export interface PostgresInboxOptions {
  /** The schema holding Sluice's tables. Default `sluice`. */
  readonly schema?: string;
  /** Run pending migrations now instead of requiring `sluice migrate`. Default false. */
  readonly migrate?: boolean;
}

/** The options with every default filled in, frozen. */
export type ResolvedPostgresInboxOptions = Readonly<Required<PostgresInboxOptions>>;

const COMPONENT = 'postgres inbox';

/** Defaults and validation (naming the offending field); the result is frozen. */
export function resolvePostgresInboxOptions(
  options: PostgresInboxOptions = {},
): ResolvedPostgresInboxOptions {
  const schema = checkIdentifier(COMPONENT, 'schema', options?.schema ?? DEFAULT_SCHEMA);
  if (options?.migrate !== undefined && typeof options.migrate !== 'boolean') {
    throw new InvalidOptionError(
      COMPONENT,
      'migrate',
      `must be true or false, got ${JSON.stringify(options.migrate)}`,
    );
  }
  return Object.freeze({ schema, migrate: options?.migrate ?? false });
}
