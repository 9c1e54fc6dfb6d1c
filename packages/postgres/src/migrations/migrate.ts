import { MigrationRequiredError, SluiceError } from '@sluice/core';
import { connectionError, isMissingRelation, toSluiceError } from '../errors.js';
import { checkIdentifier, quoteIdentifier, quoteLiteral } from '../identifier.js';
import type { SqlExecutor } from '../pg-client.js';
import { createOutbox } from './001-create-outbox.js';
import { indexOutboxTxid } from './002-index-outbox-txid.js';
import { createOutboxSequence } from './003-create-outbox-sequence.js';
import { createOutboxDelivered } from './004-create-outbox-delivered.js';
import { createRelayLease } from './005-create-relay-lease.js';
import { createInbox } from './006-create-inbox.js';
import { createRelayPartition } from './007-create-relay-partition.js';
import { seedRelayPartition } from './008-seed-relay-partition.js';
import { createRelayMember } from './009-create-relay-member.js';
import { dropRelayLease } from './010-drop-relay-lease.js';
import { tuneOutboxAutovacuum } from './011-tune-outbox-autovacuum.js';
import { createOutboxArchive } from './012-create-outbox-archive.js';
import { indexOutboxArchive } from './013-index-outbox-archive.js';
import { createRelayWaiter } from './014-create-relay-waiter.js';
import { createInboxChain } from './015-create-inbox-chain.js';
import { createInboxGroup } from './016-create-inbox-group.js';
import { createHistory } from './create-history.js';
import { createSchema } from './create-schema.js';
import type { Migration, MigrationStep } from './migration.js';

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [
  createOutbox,
  indexOutboxTxid,
  createOutboxSequence,
  createOutboxDelivered,
  createRelayLease,
  createInbox,
  createRelayPartition,
  seedRelayPartition,
  createRelayMember,
  dropRelayLease,
  tuneOutboxAutovacuum,
  createOutboxArchive,
  indexOutboxArchive,
  createRelayWaiter,
  createInboxChain,
  createInboxGroup,
];
/** The schema version this Sluice needs: the last migration's. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema Sluice's tables live in unless told otherwise. */
export const DEFAULT_SCHEMA = 'sluice';

const BOOTSTRAP: readonly Migration[] = [createSchema, createHistory];

/** The schema version of Sluice's tables in `schema` (0 when the schema or its history is missing). */
export async function schemaVersion(executor: SqlExecutor, schema: string = DEFAULT_SCHEMA): Promise<number> {
  const s = quoteIdentifier(checkIdentifier('schemaVersion', 'schema', schema));
  try {
    const rows = await executor.execute<{ v: number }>(
      `SELECT coalesce(max(version), 0)::int AS v FROM ${s}.migrations`,
    );
    return rows[0]?.v ?? 0;
  } catch (error) {
    if (isMissingRelation(error)) return 0;
    throw toSluiceError(error, `reading the schema version of ${schema}`, `schema ${schema} is missing`);
  }
}

/**
 * The statements `migrate` would run, rendered for `schema`, for `sluice migrate --dry-run`: the schema and
 * history table when missing (version 0), then every migration above the current version. Runs nothing.
 */
export async function pendingMigrations(
  executor: SqlExecutor,
  schema: string = DEFAULT_SCHEMA,
): Promise<readonly MigrationStep[]> {
  const s = quoteIdentifier(checkIdentifier('pendingMigrations', 'schema', schema));
  const rows = await executor
    .execute<{ history: boolean }>('SELECT to_regclass($1) IS NOT NULL AS history', [`${s}.migrations`])
    .catch((error: unknown) => {
      throw toSluiceError(error, `reading the migrations of ${schema}`, `schema ${schema} is missing`);
    });
  const current = rows[0]?.history ? await schemaVersion(executor, schema) : 0;
  return [...(rows[0]?.history ? [] : BOOTSTRAP), ...MIGRATIONS.filter((m) => m.version > current)].map((m) =>
    render(m, s),
  );
}

/**
 * Creates `schema` and applies pending migrations, each as one atomic statement that also records it in
 * `<schema>.migrations`. Safe to run concurrently from several processes (a transaction-scoped advisory lock
 * serialises them and each re-checks the history) and through any executor, a pool included. Returns the
 * migrations that were pending and are now applied.
 */
export async function migrate(
  executor: SqlExecutor,
  schema: string = DEFAULT_SCHEMA,
): Promise<readonly MigrationStep[]> {
  const s = quoteIdentifier(checkIdentifier('migrate', 'schema', schema));
  const lock = `PERFORM pg_advisory_xact_lock(hashtext(${quoteLiteral(`sluice migrate ${schema}`)}));`;
  const run = async (step: MigrationStep, body: string) => {
    try {
      await executor.execute(`DO $sluice_migrate$ BEGIN ${lock} ${body} END $sluice_migrate$`);
    } catch (cause) {
      // A connection that could not be made is not a failed migration: say so (a wrong password, no server).
      const connection = connectionError(cause, 'PostgreSQL');
      if (connection) throw connection;
      throw new SluiceError(
        'SLUICE_MIGRATION_FAILED',
        `migration ${step.version} (${step.name}) of schema ${schema} failed: ${String(cause)}. Nothing of it was applied; fix the cause and run \`sluice migrate\` again`,
        { cause },
      );
    }
  };
  for (const m of BOOTSTRAP) {
    const step = render(m, s);
    await run(step, `${step.sql};`);
  }
  const current = await schemaVersion(executor, schema);
  const applied: MigrationStep[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    const step = render(m, s);
    await run(
      step,
      `IF NOT EXISTS (SELECT 1 FROM ${s}.migrations WHERE version = ${m.version}) THEN
  ${step.sql};
  INSERT INTO ${s}.migrations (version, name) VALUES (${m.version}, ${quoteLiteral(m.name)});
END IF;`,
    );
    applied.push(step);
  }
  return applied;
}

/**
 * Throws `MigrationRequiredError` unless Sluice's tables in `schema` are at the latest version; `what` names
 * what the caller needs, e.g. `outbox table sluice.outbox`.
 */
export async function assertMigrated(
  executor: SqlExecutor,
  schema: string = DEFAULT_SCHEMA,
  what = `Sluice's tables in schema ${schema}`,
): Promise<void> {
  const version = await schemaVersion(executor, schema);
  if (version < LATEST_VERSION) {
    throw new MigrationRequiredError(
      version === 0
        ? `${what} is missing`
        : `${what} is at schema version ${version}, this Sluice needs ${LATEST_VERSION}`,
    );
  }
  if (version > LATEST_VERSION) {
    throw new SluiceError(
      'SLUICE_SCHEMA_TOO_NEW',
      `Sluice tables in schema ${schema} are at version ${version}, newer than this Sluice (${LATEST_VERSION}); upgrade @sluice/postgres`,
    );
  }
}

function render(m: Migration, quotedSchema: string): MigrationStep {
  return { version: m.version, name: m.name, sql: m.sql(quotedSchema) };
}
