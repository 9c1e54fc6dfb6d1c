import { createRegistry, createRelay, jsonLogger, type Transport } from '@sluice/core';
import {
  CONTRACTS_OPTION,
  DB_OPTION,
  LOG_OPTION,
  loadContracts,
  openOutboxStore,
  SCHEMA_OPTION,
} from '../context.js';
import { NAMESPACE_OPTION, openTransport, TRANSPORT_OPTION } from '../open-transport.js';
import type { Command } from './command.js';

export const relayCommand: Command = {
  spec: {
    name: 'relay',
    summary: 'ship committed outbox rows to the bus, in order per key, until stopped (SIGINT/SIGTERM)',
    usage:
      'sluice relay [--db FILE|postgres://URL] [--schema NAME] [--log FILE | --transport URL] [--contracts MODULE]',
    options: [
      DB_OPTION,
      SCHEMA_OPTION,
      LOG_OPTION,
      TRANSPORT_OPTION,
      NAMESPACE_OPTION,
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
    examples: [
      'sluice relay --db app.db --log bus.db --contracts ./dist/contracts.js',
      'sluice relay --db postgres://user:password@localhost:5432/app --log bus.db --contracts ./dist/contracts.js',
    ],
  },
  async run(options) {
    const outbox = await openOutboxStore(options, { source: options['source'] as string, relay: true });
    let transport: Transport | undefined;
    try {
      transport = await openTransport(options);
      const contracts = await loadContracts(options['contracts'] as string | undefined);
      if (contracts.length === 0) {
        process.stderr.write(
          'sluice relay: no --contracts given, so no topics are created: events for topics that do not exist yet on the bus are held back until they do (pass --contracts <module exporting your contracts>)\n',
        );
      }
      const relay = createRelay({
        outbox: outbox.store,
        transport,
        topics: createRegistry(contracts).topics(),
        batchSize: options['batch-size'] as number,
        leaseTtlMs: options['lease-ttl-ms'] as number,
        logger: jsonLogger('relay', logLevel()),
      }).start();
      // stop() also releases the lease after the loop ends: wait for it before closing the store.
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= relay.stop().catch(() => undefined);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (process.send) process.send({ ready: true });
      try {
        await relay.done;
        await stopping;
      } finally {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
      return 0;
    } finally {
      await transport?.close();
      await outbox.close();
    }
  },
};

/** `SLUICE_LOG_LEVEL`: debug, info (default), warn or error. */
function logLevel(): 'debug' | 'info' | 'warn' | 'error' {
  const level = process.env['SLUICE_LOG_LEVEL'];
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}
