import { DB_OPTION, openMigrations, SCHEMA_OPTION } from '../context.js';
import type { Command } from './command.js';

export const migrateCommand: Command = {
  spec: {
    name: 'migrate',
    summary:
      "create or upgrade Sluice's tables (outbox, inbox, relay lease) in a SQLite or PostgreSQL database",
    usage: 'sluice migrate [--db FILE|postgres://URL] [--schema NAME] [--dry-run]',
    options: [
      DB_OPTION,
      SCHEMA_OPTION,
      {
        name: 'dry-run',
        type: 'boolean',
        description: 'print the SQL instead of running it',
        default: false,
        env: '-',
      },
    ],
    examples: [
      'sluice migrate --db app.db',
      'sluice migrate --db app.db --dry-run',
      'sluice migrate --db postgres://user:password@localhost:5432/app --schema sluice',
    ],
  },
  async run(options) {
    const dryRun = options['dry-run'] === true;
    const db = await openMigrations(options);
    try {
      if (dryRun) {
        const pending = await db.pending();
        if (pending.length === 0) console.log(`-- ${db.name} is up to date`);
        for (const m of pending) console.log(`-- ${m.version}: ${m.name}\n${m.sql};\n`);
        return 0;
      }
      const applied = await db.apply();
      if (applied.length === 0) console.log(`${db.name}: up to date`);
      for (const m of applied) console.log(`${db.name}: applied ${m.version} ${m.name}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
