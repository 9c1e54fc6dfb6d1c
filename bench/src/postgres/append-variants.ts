import { createHash } from 'node:crypto';
import { EnrollmentCreated, enrollmentsTopic } from '@sluice/example-enrollments';
import {
  createPostgresOutbox,
  fromPg,
  type PgQueryable,
  type PostgresOutbox,
  type SqlExecutor,
} from '@sluice/postgres';
import type pg from 'pg';
import { benchSchemaName, dropSchema } from './bench-schema.js';
import { BENCH_SOURCE } from './bench-source.js';
import { peerMessage } from './peer-message.js';
import { PeerOutbox } from './peer-outbox.js';
import type { SampleStatement } from './statement-profile.js';

/** One way of writing an outbox event inside the caller's transaction (between its BEGIN and COMMIT). */
export interface AppendVariant {
  readonly name: string;
  readonly write: (client: pg.PoolClient, n: number) => Promise<unknown>;
  /** The statement `write` would send for the n-th event, captured without running it (for EXPLAIN). */
  readonly sample: (n: number) => Promise<SampleStatement>;
}

/** The variants of the append benchmark, each on its own table in its own fresh schema. */
export interface AppendVariants {
  readonly sluice: AppendVariant;
  readonly handwritten: AppendVariant;
  readonly peer: AppendVariant;
  /** Diagnosis: the handwritten INSERT plus Sluice's per-key sequence upsert (in Sluice's one statement). */
  readonly withSequence: AppendVariant;
  /** Diagnosis: the handwritten INSERT plus Sluice's `pg_notify` (in one statement, as Sluice sends it). */
  readonly withNotify: AppendVariant;
  close(): Promise<void>;
}

/** The example service's EnrollmentCreated event for the n-th transaction: a new enrollment, so a new key. */
export function enrollmentData(n: number) {
  return {
    enrollmentId: crypto.randomUUID(),
    courseId: `C-${n % 50}`,
    studentId: `S-${n}`,
    enrolledAt: new Date().toISOString(),
  };
}

/**
 * The same event written five ways. `handwritten` is what a service would write by hand into the same outbox
 * table layout (Sluice's, migrated in its own schema): the same columns and values (a CloudEvents JSON value
 * built with `JSON.stringify`, a random UUID, sequence 1), one `INSERT` (a named prepared statement, as Sluice
 * sends its own), no sequence upsert, no NOTIFY, no contract validation.
 */
export async function createAppendVariants(pool: pg.Pool, url: string): Promise<AppendVariants> {
  const schemas: string[] = [];
  const outboxes: PostgresOutbox[] = [];
  const sluiceTable = async (prefix: string) => {
    const schema = benchSchemaName(prefix);
    schemas.push(schema);
    outboxes.push(await createPostgresOutbox(pool, { source: BENCH_SOURCE, schema, migrate: true }));
    return { schema, outbox: outboxes[outboxes.length - 1]! };
  };
  const sluice = await sluiceTable('bench_append_sluice');
  const hand = await sluiceTable('bench_append_hand');
  const seq = await sluiceTable('bench_append_seq');
  const notify = await sluiceTable('bench_append_notify');
  const peer = await PeerOutbox.create(pool, url, benchSchemaName('bench_append_peer'));

  const columns = '(id, source, topic, key, type, sequence, value)';
  const insertSql = `INSERT INTO "${hand.schema}".outbox ${columns} VALUES ($1, $2, $3, $4, $5, $6, $7)`;
  const sequenceSql = `WITH next AS (
  INSERT INTO "${seq.schema}".outbox_sequence AS s (source, topic, key, last) VALUES ($2, $3, $4, 1)
  ON CONFLICT (source, topic, key) DO UPDATE SET last = s.last + 1
  RETURNING last
)
INSERT INTO "${seq.schema}".outbox ${columns} SELECT $1, $2, $3, $4, $5, next.last, $6 FROM next`;
  const notifySql = `WITH appended AS (
  INSERT INTO "${notify.schema}".outbox ${columns} VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING sequence
)
SELECT appended.sequence, pg_notify($8, '') FROM appended`;
  const channel = `${notify.schema}_outbox`;

  return {
    sluice: {
      name: 'sluice outbox.append',
      write: (client, n) => sluice.outbox.append(fromPg(client), EnrollmentCreated, enrollmentData(n)),
      sample: (n) =>
        captureExecutor(
          (tx) => sluice.outbox.append(tx, EnrollmentCreated, enrollmentData(n)),
          [{ sequence: '1' }],
        ),
    },
    handwritten: {
      name: 'handwritten INSERT',
      write: (client, n) => prepared(client, insertSql, handwrittenRow(n)),
      sample: async (n) => ({ sql: insertSql, params: handwrittenRow(n) }),
    },
    peer: {
      name: 'pg-transactional-outbox store',
      write: (client, n) => peer.store(client, peerEvent(n)),
      sample: (n) => capture((tx) => peer.store(tx as unknown as pg.PoolClient, peerEvent(n)), []),
    },
    withSequence: {
      name: 'handwritten + sequence upsert',
      write: (client, n) => prepared(client, sequenceSql, handwrittenRow(n).toSpliced(5, 1)),
      sample: async (n) => ({ sql: sequenceSql, params: handwrittenRow(n).toSpliced(5, 1) }),
    },
    withNotify: {
      name: 'handwritten + pg_notify',
      write: (client, n) => prepared(client, notifySql, [...handwrittenRow(n), channel]),
      sample: async (n) => ({ sql: notifySql, params: [...handwrittenRow(n), channel] }),
    },
    async close() {
      for (const o of outboxes) await o.close();
      await peer.close();
      for (const s of schemas) await dropSchema(pool, s);
    },
  };
}

function peerEvent(n: number) {
  const data = enrollmentData(n);
  return peerMessage(EnrollmentCreated.type, data.enrollmentId, data);
}

/**
 * Runs `sql` as a named prepared statement (parsed and planned once per connection), as Sluice's `fromPg` runs
 * its own statements, so the comparison is of the work, not of the protocol.
 */
function prepared(client: pg.PoolClient, sql: string, values: unknown[]) {
  return client.query({
    name: `bench_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`,
    text: sql,
    values,
  });
}

/** Runs `write` against a stand-in executor that records the one statement it sends (and runs nothing). */
async function captureExecutor(
  write: (tx: SqlExecutor) => Promise<unknown>,
  rows: unknown[],
): Promise<SampleStatement> {
  let sample: SampleStatement | undefined;
  await write({
    execute: async <R>(sql: string, params: readonly unknown[] = []) => {
      sample = { sql, params };
      return rows as R[];
    },
  });
  if (!sample) throw new Error('the variant sent no statement');
  return sample;
}

/** Runs `write` against a stand-in client that records the one statement it sends (and runs nothing). */
async function capture(
  write: (tx: PgQueryable) => Promise<unknown>,
  rows: unknown[],
): Promise<SampleStatement> {
  let sample: SampleStatement | undefined;
  await write({
    query: async <R>(sql: string, params: unknown[] = []) => {
      sample = { sql, params };
      return { rows: rows as R[], rowCount: 1 };
    },
  });
  if (!sample) throw new Error('the variant sent no statement');
  return sample;
}

/** The outbox row of EnrollmentCreated written by hand: $1 id ... $7 value, as `append` would store it. */
function handwrittenRow(n: number): unknown[] {
  const data = enrollmentData(n);
  const id = crypto.randomUUID();
  const value = JSON.stringify({
    specversion: '1.0',
    id,
    source: BENCH_SOURCE,
    type: EnrollmentCreated.type,
    time: new Date().toISOString(),
    subject: data.enrollmentId,
    datacontenttype: 'application/json',
    dataschema: EnrollmentCreated.dataschema,
    sequence: '1',
    data,
  });
  return [id, BENCH_SOURCE, enrollmentsTopic.name, data.enrollmentId, EnrollmentCreated.type, 1, value];
}
