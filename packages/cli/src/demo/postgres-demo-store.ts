import { randomBytes } from 'node:crypto';
import { createConsumer, SluiceError } from '@sluice/core';
import {
  createPostgresEnrollmentsService,
  type ProjectionHooks,
  postgresEnrollmentProjection,
} from '@sluice/example-enrollments';
import { createPostgresInbox, createPostgresOutbox } from '@sluice/postgres';
import pg from 'pg';
import { type DemoStore, leaseOwnersOf } from './demo-store.js';

export interface PostgresDemoStoreOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Keep the schema after the run instead of dropping it. */
  readonly keep: boolean;
  readonly hooks: ProjectionHooks;
}

/**
 * The demo on PostgreSQL: a new schema `sluice_demo_<random>` holds the service's tables and outbox, Sluice's
 * relay leases, and the consumer's tables and inbox (the consumer has a pool of its own, as another service
 * would). {@link DemoStore.close} drops the schema unless `keep`. The schema must not exist yet: an existing one
 * is never used, so never dropped.
 */
export async function openPostgresDemoStore(o: PostgresDemoStoreOptions): Promise<DemoStore> {
  const database = redact(o.url);
  const schema = `sluice_demo_${randomBytes(4).toString('hex')}`;
  const quoted = `"${schema}"`;
  const appPool = openPool(o.url, 3);
  const consumerPool = openPool(o.url, 4);
  let created = false;
  const drop = async () => {
    if (!created || o.keep) return;
    try {
      await appPool.query(`DROP SCHEMA IF EXISTS ${quoted} CASCADE`);
    } catch (cause) {
      throw new SluiceError(
        'SLUICE_DEMO_CLEANUP',
        `could not drop the demo's schema ${schema} in ${database}: ${String(cause)}; drop it with DROP SCHEMA ${quoted} CASCADE`,
        { cause },
      );
    }
  };
  const end = async () => {
    await Promise.allSettled([appPool.end(), consumerPool.end()]);
  };
  try {
    try {
      const { rowCount } = await appPool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (rowCount !== 0) {
        throw new SluiceError(
          'SLUICE_DEMO_SCHEMA_EXISTS',
          `schema ${schema} already exists in ${database}; run the demo again (it picks a new name)`,
        );
      }
    } catch (cause) {
      if (cause instanceof SluiceError) throw cause;
      throw new SluiceError(
        'SLUICE_DEMO_CONNECT',
        `could not query PostgreSQL at ${database}: ${String(cause)}; check --db (postgres://user:password@host:port/database) and that the server is running`,
        { cause },
      );
    }
    created = true;
    const outbox = await createPostgresOutbox(appPool, {
      source: 'urn:service:enrollments',
      schema,
      migrate: true,
    });
    const service = await createPostgresEnrollmentsService(appPool, outbox, { schema });
    for (let i = 0; i < 37; i++) await service.openCourse(`C-${100 + i}`, 1_000_000);
    const inbox = await createPostgresInbox(consumerPool, { schema, migrate: true });
    const handlers = await postgresEnrollmentProjection(consumerPool, { ...o.hooks, schema });
    let closing: Promise<void> | undefined;
    return {
      label: 'PostgreSQL',
      service,
      relayArgs: ['--schema', schema],
      relayEnv: { SLUICE_DB: o.url },
      consume: (options) => createConsumer({ ...options, inbox, handlers }),
      async appliedCount() {
        const { rows } = await consumerPool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${quoted}.side_effects`,
        );
        return rows[0]!.n;
      },
      async sideEffects() {
        const { rows } = await consumerPool.query<{ event_id: string; applied: number; latency_ms: number }>(
          `SELECT event_id, applied, latency_ms FROM ${quoted}.side_effects`,
        );
        return rows.map((r) => ({ eventId: r.event_id, applied: r.applied, latencyMs: r.latency_ms }));
      },
      async orderViolations() {
        const { rows } = await consumerPool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${quoted}.order_violations`,
        );
        return rows[0]!.n;
      },
      leaseOwners: () => leaseOwnersOf(outbox),
      info: () => ({ kind: 'postgres', database, schema, kept: o.keep }),
      close() {
        closing ??= (async () => {
          try {
            await outbox.close();
            await drop();
          } finally {
            await end();
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await drop().catch(() => undefined);
    await end();
    throw error;
  }
}

/** A pool whose idle connections' errors are reported, not thrown. */
function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => {
    process.stderr.write(`sluice demo: a PostgreSQL connection failed: ${error.message}\n`);
  });
  return pool;
}

/** The URL without password and query (which may hold credentials): for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.href;
  } catch {
    return 'the PostgreSQL database';
  }
}
