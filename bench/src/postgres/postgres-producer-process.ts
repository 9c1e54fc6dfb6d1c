/**
 * Child process for the PostgreSQL latency benchmark: the producing service. Commits `rate` events/s for
 * `seconds` (event i is due at i / rate; when the database cannot keep up, what is not committed by the end of
 * the window is not sent, so the achieved rate shows the shortfall), each in its own transaction (`BEGIN; <write>; COMMIT`) on one of `connections` connections, and
 * reports each event's id and commit time (wall clock, ms) to the parent over IPC.
 * argv: <sluice|peer> <url> <schema> <rate> <seconds> <connections>
 */
import { sleep } from '@sluice/core/adapter';
import { EnrollmentProgressed } from '@sluice/example-enrollments';
import { createPostgresOutbox, fromPg } from '@sluice/postgres';
import type pg from 'pg';
import { BENCH_SOURCE } from './bench-source.js';
import { openPool } from './open-pool.js';
import { peerMessage } from './peer-message.js';
import { peerStorage } from './peer-storage.js';
import { wallClock } from './wall-clock.js';

const [mode, url, schema, rateArg, secondsArg, connectionsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const windowMs = Number(secondsArg) * 1000;
const connections = Number(connectionsArg);
const pool = openPool(url!, connections);
const keys = Array.from({ length: 500 }, () => crypto.randomUUID());

let write: (client: pg.PoolClient, i: number) => Promise<string>;
if (mode === 'sluice') {
  const outbox = await createPostgresOutbox(pool, { source: BENCH_SOURCE, schema: schema! });
  write = async (client, i) =>
    (
      await outbox.append(fromPg(client), EnrollmentProgressed, {
        enrollmentId: keys[i % keys.length]!,
        progress: i % 101,
      })
    ).id;
} else {
  const store = peerStorage({
    outboxOrInbox: 'outbox',
    settings: {
      dbSchema: schema!,
      dbTable: 'outbox',
      enableMaxAttemptsProtection: false,
      enablePoisonousMessageProtection: false,
    },
  });
  write = async (client, i) => {
    const key = keys[i % keys.length]!;
    const message = peerMessage(EnrollmentProgressed.type, key, { enrollmentId: key, progress: i % 101 });
    await store(message, client);
    return message.id;
  };
}

const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
let batch: [string, number][] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  clients.map(async (client) => {
    for (;;) {
      const i = next++;
      if (i >= total || performance.now() - t0 >= windowMs) return;
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      await client.query('BEGIN');
      const id = await write(client, i);
      await client.query('COMMIT');
      batch.push([id, wallClock()]);
      if (batch.length >= 200) {
        process.send?.({ committed: batch });
        batch = [];
      }
    }
  }),
);
// Wait until the last report is handed to the IPC channel before disconnecting (else it can be dropped).
await new Promise<void>((resolve) => {
  if (!process.send) resolve();
  else process.send({ committed: batch, done: (performance.now() - t0) / 1000 }, () => resolve());
});
for (const c of clients) c.release();
await pool.end();
process.disconnect?.();
