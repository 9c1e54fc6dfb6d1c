import { openDatabase } from '@sluice/sqlite';

/** How many records the embedded log at `path` holds in `topic` (read straight from its SQLite file). */
export function countLogRecords(path: string, topic: string): number {
  const db = openDatabase(path);
  try {
    return db.prepare('SELECT count(*) FROM sluice_log_records WHERE topic = ?').pluck().get(topic) as number;
  } finally {
    db.close();
  }
}
