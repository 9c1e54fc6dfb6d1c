import { createRegistry, createRelay, jsonLogger } from '@sluice/core';
import { createSqliteOutbox } from '@sluice/sqlite';
import { CONTRACTS_OPTION, DB_OPTION, LOG_OPTION, loadContracts, openApp, openLog } from '../context.js';
import type { Command } from './command.js';

export const relayCommand: Command = {
  spec: {
    name: 'relay',
    summary: 'ship committed outbox rows to the bus, in order per key, until stopped (SIGINT/SIGTERM)',
    usage: 'sluice relay [--db FILE] [--log FILE] [--contracts MODULE]',
    options: [
      DB_OPTION,
      LOG_OPTION,
      CONTRACTS_OPTION,
      {
        name: 'source',
        type: 'string',
        description: 'CloudEvents source of the outbox (only used for appends)',
        default: 'urn:sluice:relay',
      },
      { name: 'batch-size', type: 'number', description: 'rows per publish', default: 1000 },
      {
        name: 'lease-ttl-ms',
        type: 'number',
        description: 'relay lease lifetime: a standby takes over this long after the holder dies',
        default: 5000,
      },
    ],
    examples: ['sluice relay --db app.db --log bus.db --contracts ./dist/contracts.js'],
  },
  async run(options) {
    // The relay only deletes delivered rows and renews its lease on this connection: if a power cut undoes
    // such a write, the rows are sent again (consumers de-duplicate). So it need not wait for the disk, and
    // holds the application's write lock for microseconds instead of an fsync.
    const db = openApp(options, { synchronous: 'NORMAL' });
    const transport = openLog(options);
    const contracts = await loadContracts(options['contracts'] as string | undefined);
    if (contracts.length === 0) {
      process.stderr.write(
        'sluice relay: no --contracts given, so no topics are created: events for topics that do not exist yet on the bus are held back until they do (pass --contracts <module exporting your contracts>)\n',
      );
    }
    const relay = createRelay({
      outbox: createSqliteOutbox(db, { source: options['source'] as string }),
      transport,
      topics: createRegistry(contracts).topics(),
      batchSize: options['batch-size'] as number,
      leaseTtlMs: options['lease-ttl-ms'] as number,
      logger: jsonLogger('relay', logLevel()),
    }).start();
    const stop = () => void relay.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (process.send) process.send({ ready: true });
    await relay.done;
    await transport.close();
    db.close();
    return 0;
  },
};

/** `SLUICE_LOG_LEVEL`: debug, info (default), warn or error. */
function logLevel(): 'debug' | 'info' | 'warn' | 'error' {
  const level = process.env['SLUICE_LOG_LEVEL'];
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}
