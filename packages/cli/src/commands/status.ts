import { DB_OPTION, JSON_OPTION, openOutboxStore, SCHEMA_OPTION } from '../context.js';
import type { Command } from './command.js';

export const statusCommand: Command = {
  spec: {
    name: 'status',
    summary: 'how far behind the relay is: pending outbox rows, age of the oldest, lease holder',
    usage: 'sluice status [--db FILE|postgres://URL] [--schema NAME] [--json]',
    options: [DB_OPTION, SCHEMA_OPTION, JSON_OPTION],
  },
  async run(options) {
    const outbox = await openOutboxStore(options, { source: 'urn:sluice:status' });
    try {
      const stats = await outbox.store.stats();
      const relay = await outbox.leaseHolder();
      const status = { ...stats, relay };
      if (options['json']) console.log(JSON.stringify(status));
      else {
        console.log(`outbox ${outbox.name}`);
        console.log(`  pending events       ${stats.pending}`);
        console.log(
          `  oldest pending age   ${stats.oldestPendingAgeMs === null ? '-' : `${stats.oldestPendingAgeMs} ms`}`,
        );
        console.log(`  relay lease holder   ${relay ?? 'none (no relay running)'}`);
      }
      return 0;
    } finally {
      await outbox.close();
    }
  },
};
