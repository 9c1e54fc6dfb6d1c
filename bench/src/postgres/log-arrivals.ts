import { openDatabase } from '@sluice/sqlite';

/**
 * When each event reached the embedded log at `path`: event id (the `id` of the JSON value, a CloudEvent or a
 * peer message) → the record's timestamp (the publisher's clock at publish, whole milliseconds).
 */
export function logArrivals(path: string, topic: string): Map<string, number> {
  const db = openDatabase(path);
  try {
    const rows = db
      .prepare('SELECT value, timestamp FROM sluice_log_records WHERE topic = ?')
      .raw()
      .all(topic) as [string | null, number][];
    const arrivals = new Map<string, number>();
    for (const [value, timestamp] of rows) {
      if (value === null) continue;
      const id = (JSON.parse(value) as { id?: unknown }).id;
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, timestamp);
    }
    return arrivals;
  } finally {
    db.close();
  }
}
