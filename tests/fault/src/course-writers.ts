import { sleep } from '@sluice/core/adapter';
import type { CourseWrite } from './cdc-fault-check.js';

/** One writer's session on the legacy courses table, in whatever driver the database under test has. */
export interface CourseSession {
  begin(): Promise<void>;
  upsert(id: number, title: string, published: boolean): Promise<void>;
  remove(id: number): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `workers` writers, each looping until stopped: one transaction writes one of `rows` rows (an upsert with a
 * title no other write uses, or a delete 15% of the time), then rolls back (10%) or commits. A connection error
 * (the server is restarting) before COMMIT means rolled back, one at COMMIT means unknown; the writer connects
 * again. Any other error fails the run (from `stop`).
 */
export function startCourseWriters(options: {
  readonly workers: number;
  readonly rows: number;
  readonly connect: () => Promise<CourseSession>;
  readonly isConnectionError: (error: unknown) => boolean;
}): { readonly writes: CourseWrite[]; stop(): Promise<void> } {
  const writes: CourseWrite[] = [];
  let stopped = false;
  const writer = async (w: number) => {
    let n = 0;
    while (!stopped) {
      let session: CourseSession;
      try {
        session = await options.connect();
      } catch {
        await sleep(50);
        continue;
      }
      try {
        while (!stopped) {
          const id = 1 + Math.floor(Math.random() * options.rows);
          const title = `w${w}-${n++}`;
          const del = Math.random() < 0.15;
          const written = { id, title: del ? null : title };
          try {
            await session.begin();
            if (del) await session.remove(id);
            else await session.upsert(id, title, n % 2 === 0);
          } catch (error) {
            writes.push({ ...written, outcome: 'rolled back' }); // cut off before COMMIT
            throw error;
          }
          if (Math.random() < 0.1) {
            await session.rollback();
            writes.push({ ...written, outcome: 'rolled back' });
            continue;
          }
          try {
            await session.commit();
            writes.push({ ...written, outcome: 'committed' });
          } catch (error) {
            writes.push({ ...written, outcome: 'unknown' });
            throw error;
          }
        }
      } catch (error) {
        if (!options.isConnectionError(error)) throw error;
        await sleep(50); // the server is restarting
      } finally {
        await session.close().catch(() => undefined);
      }
    }
  };
  const running = Array.from({ length: options.workers }, (_, i) => writer(i + 1));
  return {
    writes,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}
