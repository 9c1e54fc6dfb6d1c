import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs postgres-producer-process.ts (`mode` sluice or peer) and collects each event's commit time into
 * `committedAt`; resolves with the seconds the producer took once it is done.
 */
export function runProducer(
  mode: 'sluice' | 'peer',
  url: string,
  schema: string,
  rate: number,
  seconds: number,
  connections: number,
  committedAt: Map<string, number>,
): Promise<number> {
  const producer = fork(
    fileURLToPath(new URL('./postgres-producer-process.ts', import.meta.url)),
    [mode, url, schema, String(rate), String(seconds), String(connections)],
    { execArgv: process.execArgv },
  );
  return new Promise<number>((resolve, reject) => {
    producer.on('message', (m: { committed: [string, number][]; done?: number }) => {
      for (const [id, t] of m.committed) committedAt.set(id, t);
      if (m.done !== undefined) resolve(m.done);
    });
    // Resolved already if it reported done; otherwise its exit (even 0) is a failure, never a hang.
    producer.once('exit', (code) =>
      reject(new Error(`${mode} producer exited with ${code} before reporting done`)),
    );
  });
}
