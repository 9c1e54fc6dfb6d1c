import {
  type AuditProblem,
  type AuditProblemKind,
  type AuditReport,
  auditTopic,
  type Transport,
} from '@sluice/core';
import { JSON_OPTION, LOG_OPTION, type OpenedOutbox, openOutboxStore, SCHEMA_OPTION } from '../context.js';
import { NAMESPACE_OPTION, openTransport, TRANSPORT_OPTION } from '../open-transport.js';
import { UsageError } from '../options.js';
import type { Command } from './command.js';

const KINDS: readonly AuditProblemKind[] = [
  'missing',
  'out-of-order',
  'invented',
  'sequence-reused',
  'duplicate',
  'unreadable',
];

export const auditCommand: Command = {
  spec: {
    name: 'audit',
    summary:
      'check that a topic holds every event, once and in order per key (optionally against the outbox); exit 1 when events are lost, invented or reordered',
    usage:
      'sluice audit --topic NAME [--log FILE | --transport URL] [--namespace NS] [--db FILE|postgres://URL] [--schema NAME] [--from-start] [--idle-ms MS] [--json] [--max-lines N]',
    options: [
      {
        name: 'topic',
        type: 'string',
        description: 'the topic to audit (read from its start, every partition)',
      },
      LOG_OPTION,
      TRANSPORT_OPTION,
      NAMESPACE_OPTION,
      {
        name: 'db',
        type: 'string',
        description:
          "the outbox the topic's events came from: the application's SQLite file or a postgres:// URL; then delivered rows missing from the topic and events the outbox never had are reported too (default: the topic alone)",
      },
      SCHEMA_OPTION,
      {
        name: 'from-start',
        type: 'boolean',
        description:
          "the topic still holds every event ever published to it (no retention or deletion): a key's counter sequences before its first event on the topic are reported missing too",
        default: false,
      },
      {
        name: 'idle-ms',
        type: 'number',
        description: 'the topic counts as fully read once a poll waits this long without a record',
        default: 1000,
      },
      {
        name: 'max-lines',
        type: 'number',
        description: 'print at most this many problems (0: all); the counts always cover every problem',
        default: 100,
      },
      { ...JSON_OPTION, description: 'print the report as one JSON object' },
    ],
    examples: [
      'sluice audit --topic enrollments --log bus.db --db app.db',
      'sluice audit --topic enrollments --transport kafka://localhost:9092 --namespace prod --json',
      'sluice audit --topic enrollments --transport nats://localhost:4222 --db postgres://user:pw@localhost/app',
    ],
  },
  async run(options) {
    const topic = options['topic'];
    if (typeof topic !== 'string' || topic === '') {
      throw new UsageError('name the topic to audit: sluice audit --topic NAME');
    }
    const maxLines = options['max-lines'] as number;
    if (!Number.isInteger(maxLines) || maxLines < 0) {
      throw new UsageError(`--max-lines must be a whole number >= 0, got ${maxLines}`);
    }
    const idleMs = options['idle-ms'] as number;
    if (!(idleMs > 0)) throw new UsageError(`--idle-ms must be a positive number of ms, got ${idleMs}`);
    const db = options['db'];
    let outbox: OpenedOutbox | undefined;
    let transport: Transport | undefined;
    try {
      if (typeof db === 'string' && db !== '') {
        outbox = await openOutboxStore(options, { source: 'urn:sluice:audit' });
      }
      transport = await openTransport(options, { readOnly: true });
      const progress = progressPrinter(topic);
      const report = await auditTopic(transport, {
        topic,
        ...(outbox ? { outbox: outbox.store } : {}),
        fromStart: options['from-start'] === true,
        idleMs,
        onProgress: progress.update,
      });
      progress.done();
      const shown = maxLines === 0 ? report.problems : report.problems.slice(0, maxLines);
      if (options['json']) {
        console.log(JSON.stringify({ ...report, problems: shown, problemsShown: shown.length }));
      } else {
        printReport(report, shown, transport.name, outbox?.name);
      }
      return report.failed ? 1 : 0;
    } finally {
      await transport?.close();
      await outbox?.close();
    }
  },
};

/** Writes how far the read got to stderr, at most once a second, so a long audit shows it is alive. */
function progressPrinter(topic: string) {
  const started = Date.now();
  let last = started;
  let printed = false;
  return {
    update(p: { phase: 'outbox' | 'topic'; read: number }) {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      printed = true;
      const what = p.phase === 'outbox' ? 'outbox rows listed' : 'records read';
      process.stderr.write(
        `sluice audit: ${topic}: ${p.read} ${what} (${((now - started) / 1000).toFixed(0)} s)\n`,
      );
    },
    done() {
      if (printed) process.stderr.write(`sluice audit: ${topic}: read in ${Date.now() - started} ms\n`);
    },
  };
}

function printReport(
  report: AuditReport,
  shown: readonly AuditProblem[],
  transport: string,
  outbox: string | undefined,
): void {
  const row = (label: string, value: string | number) => console.log(`  ${label.padEnd(18)} ${value}`);
  console.log(`audit of topic ${report.topic} on ${transport}${outbox ? `, against outbox ${outbox}` : ''}`);
  row('records read', report.records);
  if (report.tombstones > 0) row('tombstones', `${report.tombstones} (not audited)`);
  row('keys', report.keys);
  row('events', report.events);
  if (report.outboxRows !== null) row('outbox rows', report.outboxRows);
  for (const kind of KINDS) {
    row(
      kind,
      `${report.counts[kind]}${kind === 'duplicate' ? ' (re-sends, skipped by consumers: not a failure)' : ''}`,
    );
  }
  if (shown.length > 0) {
    console.log(
      `problems${shown.length < report.problems.length ? ` (first ${shown.length} of ${report.problems.length}; --max-lines 0 shows all)` : ''}:`,
    );
    for (const p of shown) console.log(`  ${problemLine(p)}`);
  }
  for (const note of report.notes) console.log(`note: ${note}`);
  console.log(
    report.failed
      ? 'result: FAILED: events were lost, invented or reordered'
      : `result: ok${report.counts.duplicate > 0 ? ' (re-sent events only)' : ''}`,
  );
}

/** `missing  topic=orders key=k-3 expected=17 ids=0193… : counter sequence 17 … never stored: …` */
export function problemLine(p: AuditProblem): string {
  const parts = [p.kind.padEnd(15), `topic=${p.topic}`, `key=${p.key}`];
  if (p.expected !== undefined) parts.push(`expected=${p.expected}`);
  if (p.received !== undefined) parts.push(`received=${p.received}`);
  if (p.ids.length > 0) parts.push(`ids=${p.ids.join(',')}`);
  if (p.at.length > 0) parts.push(`at=${p.at.map((a) => `${a.partition}@${a.offset}`).join(',')}`);
  return `${parts.join(' ')} : ${p.message}`;
}
