import { requestBackfill } from '@sluice/core';
import { createMysqlSnapshotter, type MysqlSnapshotter } from '@sluice/mysql/cdc';
import { createPostgresSnapshotter, type PostgresSnapshotter } from '@sluice/postgres/cdc';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { isPostgresUrl, JSON_OPTION, stringOption } from '../context.js';
import { type Resolved, UsageError } from '../options.js';
import { BACKFILL_CONTRACTS_OPTION, loadBackfillPermissionSources } from './backfill-permission-sources.js';
import type { Command } from './command.js';

export const backfillCommand: Command = {
  spec: {
    name: 'backfill',
    summary:
      'request a snapshot of a captured table (or of the rows --where selects) into a change source’s stream; list or cancel backfills',
    usage:
      'sluice backfill <source> --table SCHEMA.TABLE [--where SQL] [--chunk-size N] [--contracts MODULE] --db postgres://URL|mysql://URL | sluice backfill --list [<source>] | sluice backfill --cancel ID',
    options: [
      {
        name: 'db',
        type: 'string',
        description: 'the captured database, where the backfill tables are: a postgres:// or mysql:// URL',
      },
      { name: 'table', type: 'string', description: 'the table to snapshot, as schema.table', env: '-' },
      {
        name: 'where',
        type: 'string',
        description:
          'a SQL condition on the table: only the rows it selects are snapshotted (a key range, a tenant)',
        env: '-',
      },
      { name: 'chunk-size', type: 'number', description: 'rows per chunk (default 2000)', env: '-' },
      {
        name: 'backfill-schema',
        type: 'string',
        description:
          'schema (PostgreSQL) or database (MySQL) of the backfill and watermark tables (createChangeCapture’s backfillSchema)',
        default: 'sluice',
      },
      {
        name: 'list',
        type: 'boolean',
        description: 'list backfills (of <source> if given), newest first',
        env: '-',
      },
      { name: 'cancel', type: 'string', description: 'cancel the pending backfill with this id', env: '-' },
      BACKFILL_CONTRACTS_OPTION,
      JSON_OPTION,
    ],
    examples: [
      'sluice backfill postgres:courses_slot --table public.courses --db postgres://app@localhost/app',
      'sluice backfill postgres:courses_slot --table public.courses --where "id BETWEEN 1000 AND 1999" --db postgres://app@localhost/app',
      'sluice backfill postgres:courses_slot --table public.courses --contracts ./dist/catalogue.js --db postgres://app@localhost/app',
      'sluice backfill --list --db postgres://app@localhost/app',
    ],
  },
  async run(options, positionals) {
    const { snapshotter, end } = openSnapshotter(
      stringOption(options, 'db'),
      stringOption(options, 'backfill-schema'),
    );
    try {
      if (options['list']) return await list(snapshotter, positionals[0], options);
      const cancel = options['cancel'];
      if (typeof cancel === 'string') {
        if (await snapshotter.cancel(cancel)) {
          console.log(`backfill ${cancel} cancelled; a relay running it stops after its current chunk`);
          return 0;
        }
        console.error(`no pending backfill with id ${cancel}: see \`sluice backfill --list\``);
        return 1;
      }
      const source = positionals[0];
      if (source === undefined)
        throw new UsageError('name the change source: sluice backfill <source> --table schema.table');
      const table = stringOption(options, 'table');
      const dot = table.indexOf('.');
      if (dot <= 0 || dot === table.length - 1)
        throw new UsageError(`--table must be schema.table, got ${table}`);
      const chunkSize = options['chunk-size'];
      const where = options['where'];
      const known = await loadBackfillPermissionSources(options['contracts'] as string | undefined);
      const id = await requestBackfill(
        snapshotter,
        {
          source,
          schema: table.slice(0, dot),
          table: table.slice(dot + 1),
          where: typeof where === 'string' ? where : undefined,
          chunkSize: typeof chunkSize === 'number' ? chunkSize : undefined,
        },
        known,
      );
      if (options['json']) console.log(JSON.stringify({ id, source, table, where }));
      else {
        console.log(
          `backfill ${id} requested: ${table}${typeof where === 'string' ? ` where ${where}` : ''} into ${source}. The relay reading ${source} runs it; follow it with \`sluice backfill --list ${source}\``,
        );
      }
      return 0;
    } finally {
      await snapshotter.close();
      await end();
    }
  },
};

async function list(
  snapshotter: PostgresSnapshotter | MysqlSnapshotter,
  source: string | undefined,
  options: Resolved,
): Promise<number> {
  const requests = await snapshotter.list(source);
  if (options['json']) {
    for (const r of requests) console.log(JSON.stringify(r));
    return 0;
  }
  if (requests.length === 0) console.log(`no backfills${source === undefined ? '' : ` of ${source}`}`);
  for (const r of requests) {
    console.log(
      `${r.id}  ${r.status.padEnd(9)}  ${r.source}  ${r.schema}.${r.table}${r.where === undefined ? '' : ` where ${r.where}`}  ${r.rowsDelivered} rows delivered${r.afterKey === undefined ? '' : `, up to key ${JSON.stringify(r.afterKey)}`}  requested ${r.requestedAt.toISOString()}`,
    );
  }
  return 0;
}

/** The snapshotter of the captured database: PostgreSQL for postgres:// URLs, MySQL/MariaDB for mysql:// ones. */
function openSnapshotter(
  db: string,
  schema: string,
): { snapshotter: PostgresSnapshotter | MysqlSnapshotter; end: () => Promise<void> } {
  if (isPostgresUrl(db)) {
    const pool = new pg.Pool({ connectionString: db, max: 1 });
    pool.on('error', () => undefined);
    return { snapshotter: createPostgresSnapshotter(pool, { schema }), end: () => pool.end() };
  }
  if (/^(mysql|mariadb):\/\//i.test(db)) {
    const pool = mysql.createPool({ uri: db.replace(/^mariadb:/i, 'mysql:'), connectionLimit: 1 });
    return { snapshotter: createMysqlSnapshotter(pool, { database: schema }), end: () => pool.end() };
  }
  throw new UsageError('--db must be the captured database: a postgres:// or mysql:// URL');
}
