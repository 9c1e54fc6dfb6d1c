import { randomUUID } from 'node:crypto';
import { EnrollmentCancelled, EnrollmentCreated, EnrollmentProgressed } from '@sluice/example-enrollments';
import { type AppendResult, createPostgresOutbox, fromPg } from '@sluice/postgres';
import pg from 'pg';
import type { ChaosProducer } from './pipeline-chaos.js';

/**
 * A chaos producer on PostgreSQL: four concurrent connections append enrollment events in their own
 * transactions (10% rolled back on purpose), several of them often on the same key, so their transactions
 * commit out of position order.
 */
export async function postgresProducer(url: string, schema: string): Promise<ChaosProducer> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const outbox = await createPostgresOutbox(pool, {
    source: 'urn:service:enrollments',
    schema,
    migrate: true,
  });
  return {
    relayArgs: ['--db', url, '--schema', schema],
    async produce(until, committed, rolledBack) {
      const active: string[] = []; // keys whose enrollment.created committed
      let n = 0;
      const worker = async () => {
        while (!until()) {
          const client = await pool.connect();
          const tx = fromPg(client);
          let appended: AppendResult | undefined;
          let created = false;
          try {
            await client.query('BEGIN');
            const r = Math.random();
            n++;
            if (active.length < 20 || r < 0.3) {
              created = true;
              appended = await outbox.append(tx, EnrollmentCreated, {
                enrollmentId: randomUUID(),
                courseId: `C-${n % 13}`,
                studentId: `S-${n}`,
                enrolledAt: new Date().toISOString(),
              });
            } else if (r < 0.92) {
              const key = active[Math.floor(Math.random() * active.length)]!;
              appended = await outbox.append(tx, EnrollmentProgressed, {
                enrollmentId: key,
                progress: n % 101,
              });
            } else {
              const key = active.splice(Math.floor(Math.random() * active.length), 1)[0]!;
              appended = await outbox.append(tx, EnrollmentCancelled, {
                enrollmentId: key,
                reason: 'student-request',
              });
            }
            // Hold some transactions open a little, so others on the same key queue behind them.
            if (Math.random() < 0.1) await client.query('SELECT pg_sleep(0.005)');
            if (Math.random() < 0.1) {
              await client.query('ROLLBACK');
              rolledBack.add(appended.id);
            } else {
              await client.query('COMMIT');
              committed.set(appended.id, appended.key);
              if (created) active.push(appended.key);
            }
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            // Concurrent appends to one key may deadlock with other rows; the application retries those.
            const code = (error as { code?: unknown }).code;
            if (code !== '40P01' && code !== '40001') throw error;
            if (appended) rolledBack.add(appended.id);
          } finally {
            client.release();
          }
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    },
    async close() {
      await outbox.close();
      await pool.end();
    },
  };
}
