import { JSON_OPTION, LOG_OPTION } from '../context.js';
import { forTerminal, NAMESPACE_OPTION, openTransport, TRANSPORT_OPTION } from '../open-transport.js';
import { UsageError } from '../options.js';
import type { Command } from './command.js';
import { createEventMasker, MASK_CONTRACTS_OPTION, SHOW_PERSONAL_OPTION } from './event-masker.js';
import { formatRecord } from './format-record.js';
import { parseSeekTarget } from './seek-target.js';

export const tailCommand: Command = {
  spec: {
    name: 'tail',
    summary: 'print the events of a topic as they arrive',
    usage:
      'sluice tail <topic> [--log FILE] [--from earliest|latest|TIME] [--no-follow] [--json] [--contracts MODULE [--show-personal]]',
    options: [
      LOG_OPTION,
      TRANSPORT_OPTION,
      NAMESPACE_OPTION,
      JSON_OPTION,
      {
        name: 'from',
        type: 'string',
        description: 'where to start: earliest, latest, an ISO time, or PARTITION:OFFSET',
        default: 'earliest',
        env: '-',
      },
      {
        name: 'follow',
        type: 'boolean',
        description: 'keep waiting for new events (--no-follow stops at the end)',
        default: true,
        env: '-',
      },
      { name: 'limit', type: 'number', description: 'stop after this many events', env: '-' },
      MASK_CONTRACTS_OPTION,
      SHOW_PERSONAL_OPTION,
    ],
    examples: [
      'sluice tail enrollments --log bus.db',
      'sluice tail enrollments --from 2026-11-26T10:00:00Z --json --no-follow',
      'sluice tail enrollments --contracts ./dist/contracts.js   (personal fields masked; --show-personal shows them)',
    ],
  },
  async run(options, positionals) {
    const topic = positionals[0];
    if (!topic) throw new UsageError('name the topic: sluice tail <topic>');
    const transport = await openTransport(options, { readOnly: true });
    const target = parseSeekTarget(options['from'] as string);
    const limit = (options['limit'] as number | undefined) ?? Number.POSITIVE_INFINITY;
    const json = options['json'] === true;
    const masker = await createEventMasker(options, 'tail');
    const sub = await transport
      .subscribe({
        group: `sluice-tail-${process.pid}`,
        topics: [topic],
        ephemeral: true,
        startFrom: target.to === 'latest' ? 'latest' : 'earliest',
      })
      .catch(async (error: unknown) => {
        await transport.close();
        throw forTerminal(error, options);
      });
    if (target.to === 'time' || target.to === 'offset') await sub.seek(topic, target);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    let printed = 0;
    try {
      while (!abort.signal.aborted && printed < limit) {
        const records = await sub.poll({
          maxRecords: 500,
          maxWaitMs: options['follow'] ? 1000 : 200,
          signal: abort.signal,
        });
        if (records.length === 0 && !options['follow']) break;
        for (const r of records) {
          if (printed++ >= limit) break;
          console.log(formatRecord(r, json, masker));
        }
      }
    } finally {
      await sub.close();
      await transport.close();
    }
    return 0;
  },
};
