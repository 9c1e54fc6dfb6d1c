import { createSqliteOutbox } from '@sluice/sqlite';
import { DB_OPTION, JSON_OPTION, openApp } from '../context.js';
import type { Command } from './command.js';

export const statusCommand: Command = {
  spec: {
    name: 'status',
    summary: 'how far behind the relay is: pending outbox rows, age of the oldest, lease holder',
    usage: 'sluice status [--db FILE] [--json]',
    options: [DB_OPTION, JSON_OPTION],
  },
  async run(options) {
    const db = openApp(options, { mustExist: true });
    try {
      const stats = await createSqliteOutbox(db, { source: 'urn:sluice:status' }).stats();
      const lease = db
        .prepare("SELECT owner, expires_at FROM sluice_relay_lease WHERE name = 'outbox'")
        .get() as { owner: string; expires_at: number } | undefined;
      const live = lease !== undefined && lease.expires_at > Date.now();
      const status = { ...stats, relay: live ? lease.owner : null };
      if (options['json']) console.log(JSON.stringify(status));
      else {
        console.log(`outbox ${db.name}`);
        console.log(`  pending events       ${stats.pending}`);
        console.log(
          `  oldest pending age   ${stats.oldestPendingAgeMs === null ? '-' : `${stats.oldestPendingAgeMs} ms`}`,
        );
        console.log(`  relay lease holder   ${live ? lease.owner : 'none (no relay running)'}`);
      }
      return 0;
    } finally {
      db.close();
    }
  },
};
