import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MIGRATIONS, migrate, pendingMigrations } from '@sluice/sqlite';
import { DB_OPTION, openApp } from '../context.js';
import type { Command } from './command.js';

export const migrateCommand: Command = {
  spec: {
    name: 'migrate',
    summary: "create or upgrade Sluice's tables (outbox, inbox, relay lease) in a SQLite database",
    usage: 'sluice migrate [--db FILE] [--dry-run]',
    options: [
      DB_OPTION,
      {
        name: 'dry-run',
        type: 'boolean',
        description: 'print the SQL instead of running it',
        default: false,
        env: '-',
      },
    ],
    examples: ['sluice migrate --db app.db', 'sluice migrate --db app.db --dry-run'],
  },
  async run(options) {
    const path = resolve(String(options['db']));
    if (options['dry-run'] && !existsSync(path)) {
      // Nothing to open: a new database would get every migration.
      for (const m of MIGRATIONS) console.log(`-- ${m.version}: ${m.name}\n${m.sql};\n`);
      return 0;
    }
    const db = openApp(options);
    try {
      if (options['dry-run']) {
        const pending = pendingMigrations(db);
        if (pending.length === 0) console.log(`-- ${db.name} is up to date`);
        for (const m of pending) console.log(`-- ${m.version}: ${m.name}\n${m.sql};\n`);
        return 0;
      }
      const applied = migrate(db);
      if (applied.length === 0) console.log(`${db.name}: up to date`);
      for (const m of applied) console.log(`${db.name}: applied ${m.version} ${m.name}`);
      return 0;
    } finally {
      db.close();
    }
  },
};
