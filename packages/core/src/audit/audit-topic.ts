import { InvalidOptionError } from '../errors.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { Transport } from '../transport/transport.js';
import type { AuditReport } from './audit-report.js';
import { TopicAudit } from './topic-audit.js';

/** What {@link auditTopic} reads and how. */
export interface AuditTopicOptions {
  readonly topic: string;
  /**
   * The outbox the topic's events came from: its chains (`listChains`, if it has it) and rows of the topic
   * (it must implement `listRows`) are listed first, then compared with the topic. Without it only the topic is checked (gaps, order, duplicates).
   */
  readonly outbox?: AuditedOutbox;
  /** See {@link TopicAuditOptions.fromStart}. Default false. */
  readonly fromStart?: boolean;
  /** See {@link TopicAuditOptions.outboxComplete}. Default false. */
  readonly outboxComplete?: boolean;
  /** The topic is taken as fully read after a poll waits this long without a record. Default 1000 ms. */
  readonly idleMs?: number;
  /** Records per poll and outbox rows per page. Default 1000. */
  readonly batchSize?: number;
  /** Called after each page of outbox rows and each batch of records, with the totals so far. */
  readonly onProgress?: (progress: AuditProgress) => void;
  readonly signal?: AbortSignal;
}

/** What an audit needs of an outbox: its name for messages and its rows of a topic. */
export type AuditedOutbox = Pick<OutboxStore, 'name' | 'listRows' | 'listChains'>;

/** How far an audit has read. */
export interface AuditProgress {
  readonly phase: 'outbox' | 'topic';
  /** Outbox rows listed, or topic records read, so far. */
  readonly read: number;
}

/**
 * Audits `topic` on `transport` (see {@link TopicAudit}): lists the outbox's rows of the topic if an outbox is
 * given, then reads the topic from its start, every partition, with an ephemeral reader (no consumer group,
 * nothing committed), until a poll finds nothing for `idleMs`. Events published while it reads are audited
 * or not depending on when they land; events appended after the outbox was listed are never taken for
 * invented ones. Throws `SLUICE_INVALID_OPTION` when the outbox cannot list its rows.
 */
export async function auditTopic(transport: Transport, options: AuditTopicOptions): Promise<AuditReport> {
  const idleMs = options.idleMs ?? 1000;
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isFinite(idleMs) || idleMs <= 0) {
    throw new InvalidOptionError('auditTopic', 'idleMs', `must be a positive number of ms, got ${idleMs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError('auditTopic', 'batchSize', `must be a positive integer, got ${batchSize}`);
  }
  const audit = new TopicAudit({
    topic: options.topic,
    fromStart: options.fromStart ?? false,
    outboxComplete: options.outboxComplete ?? false,
  });
  const outbox = options.outbox;
  if (outbox) {
    if (!outbox.listRows) {
      throw new InvalidOptionError(
        'auditTopic',
        'outbox',
        `${outbox.name} cannot list its rows (its store has no listRows): audit the topic alone, without the outbox`,
      );
    }
    let cursor: string | undefined;
    let listed = 0;
    // Chains first: a row appended after this is then never counted as delivered.
    if (outbox.listChains) {
      do {
        const page = await outbox.listChains(options.topic, cursor, batchSize);
        audit.outboxChains(page.chains);
        cursor = page.cursor;
      } while (cursor !== undefined && !options.signal?.aborted);
    }
    do {
      const page = await outbox.listRows(options.topic, cursor, batchSize);
      audit.outboxRows(page.rows);
      listed += page.rows.length;
      cursor = page.cursor;
      options.onProgress?.({ phase: 'outbox', read: listed });
    } while (cursor !== undefined && !options.signal?.aborted);
  }
  const sub = await transport.subscribe({
    group: 'sluice-audit',
    topics: [options.topic],
    ephemeral: true,
    startFrom: 'earliest',
  });
  try {
    while (!options.signal?.aborted) {
      const records = await sub.poll({
        maxRecords: batchSize,
        maxWaitMs: idleMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (records.length === 0) break;
      for (const record of records) audit.record(record);
      options.onProgress?.({ phase: 'topic', read: audit.records });
    }
  } finally {
    await sub.close();
  }
  return audit.report();
}
