import { decodeEnvelope } from '../envelope/codec.js';
import type { SequenceKind } from '../envelope/envelope.js';
import { errorMessage, SluiceError } from '../errors.js';
import type { ListedOutboxRow, OutboxChain } from '../outbox/outbox-store.js';
import { chainOf } from '../outbox/sequence-gate.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { AuditProblem, AuditProblemKind, AuditReport, RecordPosition } from './audit-report.js';

/** How a {@link TopicAudit} reads what it is given. */
export interface TopicAuditOptions {
  /** The topic audited; records of other topics are refused. */
  readonly topic: string;
  /**
   * The records given start at the topic's true start: no retention, compaction or deletion ever removed one.
   * Then a `counter` key whose first event on the topic is not sequence 1 is missing the ones before. Default
   * false: sequences below each key's first event are not checked.
   */
  readonly fromStart?: boolean;
  /**
   * The outbox rows given are every event ever appended to the topic (a test's ledger of committed events, or
   * an outbox that keeps every delivered row): then any event on the topic that is not among them is invented,
   * whatever its sequence. Default false: only events within the sequences the rows of their key cover are
   * judged, since delivered rows may have been removed.
   */
  readonly outboxComplete?: boolean;
}

interface SeenEvent {
  readonly id: string;
  readonly chain: Chain;
  readonly sequence: number;
  readonly kind: SequenceKind;
  readonly at: RecordPosition;
}

interface Chain {
  readonly source: string;
  readonly key: string;
  /** counter sequence -> first event id stored with it */
  readonly counters: Map<number, SeenEvent>;
  /** Lowest counter sequence on the topic. */
  counterLow: number;
  /** Highest sequence among first appearances, per kind. */
  highest: { counter: number; position: number };
  /** Outbox rows of this chain: sequence -> row, and the lowest and highest sequence among them. */
  readonly outbox: Map<number, ListedOutboxRow>;
  outboxLow: number;
  outboxHigh: number;
  /** Lowest sequence among the chain's pending (not yet delivered) outbox rows. */
  pendingLow: number;
  /** The outbox's counter of this chain (highest sequence appended), when the outbox listed its chains. */
  appended: number | undefined;
  /** Distinct events of this chain on the topic. */
  events: number;
}

/**
 * Checks one topic for lost, invented, duplicated and reordered events, fed record by record (read from the
 * topic's start, every partition, in offset order per partition) and, optionally, with the outbox's rows of
 * that topic. Keeps one small entry per event, not the records. Adapter-independent: `auditTopic` feeds it
 * from a transport and an outbox store; tests feed it arrays.
 *
 * A chain is a `source`, topic and key. `counter` events (outbox appends) are numbered 1, 2, 3... per chain:
 * gaps, reused numbers and first appearances out of ascending order are problems. `position` events (change
 * data capture, backfills; also events without `sluiceseqkind`) may skip and repeat: only a decrease is a
 * problem. Give the outbox rows before calling {@link report}; give them first (list the outbox before reading
 * the topic) so that events appended meanwhile are not taken for invented ones.
 */
export class TopicAudit {
  readonly #topic: string;
  readonly #fromStart: boolean;
  readonly #outboxComplete: boolean;
  readonly #chains = new Map<string, Chain>();
  readonly #events = new Map<string, SeenEvent>();
  readonly #outboxIds = new Map<string, ListedOutboxRow>();
  readonly #problems: AuditProblem[] = [];
  #outboxGiven = false;
  #records = 0;
  #tombstones = 0;

  constructor(options: TopicAuditOptions) {
    this.#topic = options.topic;
    this.#fromStart = options.fromStart ?? false;
    this.#outboxComplete = options.outboxComplete ?? false;
  }

  /** Records read so far. */
  get records(): number {
    return this.#records;
  }

  /** Adds outbox rows of the topic (any number of calls, before {@link report}). */
  outboxRows(rows: readonly ListedOutboxRow[]): void {
    this.#outboxGiven = true;
    for (const row of rows) {
      this.#outboxIds.set(row.id, row);
      const chain = this.#chain(row.source, row.key);
      chain.outbox.set(row.sequence, row);
      chain.outboxLow = Math.min(chain.outboxLow, row.sequence);
      chain.outboxHigh = Math.max(chain.outboxHigh, row.sequence);
      if (!row.delivered) chain.pendingLow = Math.min(chain.pendingLow, row.sequence);
    }
  }

  /**
   * Adds the outbox's chains of the topic with their counters (any number of calls, before {@link report};
   * list them before the rows, as `auditTopic` does). Every sequence up to a chain's counter that is not among
   * its pending rows was delivered, so one missing at the end of the key on the topic is lost.
   */
  outboxChains(chains: readonly OutboxChain[]): void {
    for (const c of chains) {
      const chain = this.#chain(c.source, c.key);
      chain.appended = Math.max(chain.appended ?? 0, c.appended);
    }
  }

  /** Adds the next record read from the topic. */
  record(record: ConsumedRecord): void {
    if (record.topic !== this.#topic) {
      throw new SluiceError(
        'SLUICE_INVALID_OPTION',
        `TopicAudit of ${this.#topic} was given a record of ${record.topic}: audit each topic with its own TopicAudit`,
      );
    }
    this.#records++;
    const at = { partition: record.partition, offset: record.offset };
    if (record.value === null) {
      this.#tombstones++;
      return;
    }
    let envelope: ReturnType<typeof decodeEnvelope>;
    try {
      envelope = decodeEnvelope(record.value);
    } catch (error) {
      this.#problem('unreadable', '', record.key, [], [at], {
        message: `record ${where(at)} of key ${record.key} is not a Sluice event: ${errorMessage(error)}`,
      });
      return;
    }
    const kind = envelope.sluiceseqkind ?? 'position';
    const chain = this.#chain(envelope.source, envelope.subject);
    const earlier = this.#events.get(envelope.id);
    if (earlier) {
      this.#problem('duplicate', chain.source, chain.key, [envelope.id], [earlier.at, at], {
        received: envelope.sluiceseq,
        message: `event ${envelope.id} (sequence ${envelope.sluiceseq}) is stored again at ${where(at)}, first at ${where(earlier.at)}: a re-send, which consumers skip`,
      });
      return;
    }
    const event: SeenEvent = { id: envelope.id, chain, sequence: envelope.sluiceseq, kind, at };
    this.#events.set(envelope.id, event);
    chain.events++;
    if (kind === 'counter') {
      const taken = chain.counters.get(envelope.sluiceseq);
      if (taken) {
        this.#problem('sequence-reused', chain.source, chain.key, [taken.id, envelope.id], [taken.at, at], {
          received: envelope.sluiceseq,
          message: `events ${taken.id} and ${envelope.id} both carry counter sequence ${envelope.sluiceseq}: one of them was not appended by this key's outbox counter`,
        });
        return;
      }
      chain.counters.set(envelope.sluiceseq, event);
      chain.counterLow = Math.min(chain.counterLow, envelope.sluiceseq);
    }
    const highest = chain.highest[kind];
    if (envelope.sluiceseq < highest) {
      this.#problem('out-of-order', chain.source, chain.key, [envelope.id], [at], {
        expected: kind === 'counter' ? `${highest + 1}` : `>= ${highest}`,
        received: envelope.sluiceseq,
        message: `event ${envelope.id} (${kind} ${envelope.sluiceseq}) first appears at ${where(at)}, after ${kind} ${highest} of its key`,
      });
    }
    chain.highest[kind] = Math.max(highest, envelope.sluiceseq);
  }

  /** The findings so far: call once every record (and the outbox) was given. */
  report(): AuditReport {
    const missing: AuditProblem[] = [];
    const notes: string[] = [];
    let unknownHistory = 0;
    let absent = 0;
    for (const chain of this.#chains.values()) {
      missing.push(...this.#gaps(chain));
      const tail = this.#tail(chain);
      if (tail === 'absent') absent++;
      else if (tail) missing.push(tail);
      if (this.#outboxGiven && !this.#outboxComplete && chain.counters.size > 0 && chain.outboxLow > 1) {
        unknownHistory++;
      }
    }
    const invented: AuditProblem[] = [];
    if (this.#outboxGiven) {
      missing.push(...this.#undelivered(missing));
      invented.push(...this.#invented());
      if (unknownHistory > 0) {
        notes.push(
          `${unknownHistory} key(s) have events older than the outbox's oldest row of that key, or the outbox holds none of theirs (delivered rows are deleted, or archived only for a while): those events were not checked for invention`,
        );
      }
    } else {
      notes.push(
        'no outbox given: delivered events missing from the topic and events the outbox never had were not checked (pass the outbox to check them)',
      );
    }
    if (absent > 0) {
      notes.push(
        `${absent} key(s) the outbox delivered have no event on the topic: not reported, as retention may have removed them all (if the topic keeps every event, audit it from its start: --from-start)`,
      );
    }
    if (!this.#fromStart) {
      notes.push(
        "sequences before each key's first event on the topic were not checked, as retention may have removed them (if the topic keeps every event, audit it from its start: --from-start)",
      );
    }
    missing.sort(
      (a, b) =>
        compare(a.source, b.source) ||
        compare(a.key, b.key) ||
        Number.parseInt(a.expected ?? '0', 10) - Number.parseInt(b.expected ?? '0', 10),
    );
    const problems = [...missing, ...invented, ...this.#problems];
    const counts: Record<AuditProblemKind, number> = {
      missing: 0,
      'out-of-order': 0,
      invented: 0,
      'sequence-reused': 0,
      duplicate: 0,
      unreadable: 0,
    };
    for (const p of problems) counts[p.kind]++;
    return {
      topic: this.#topic,
      records: this.#records,
      tombstones: this.#tombstones,
      keys: [...this.#chains.values()].filter((c) => c.events > 0).length,
      events: this.#events.size,
      outboxRows: this.#outboxGiven ? this.#outboxIds.size : null,
      counts,
      failed: problems.some((p) => p.kind !== 'duplicate'),
      problems,
      notes,
    };
  }

  /** Runs of counter sequences absent between the chain's lowest (or 1) and highest. */
  #gaps(chain: Chain): AuditProblem[] {
    if (chain.counters.size === 0) return [];
    const sequences = [...chain.counters.keys()].sort((a, b) => a - b);
    const out: AuditProblem[] = [];
    let previous = this.#fromStart ? 0 : sequences[0]! - 1;
    for (const s of sequences) {
      if (s > previous + 1) out.push(this.#gap(chain, previous + 1, s - 1, previous, s));
      previous = s;
    }
    return out;
  }

  /**
   * The delivered sequences after the chain's last one on the topic: the outbox counted up to `appended`, and
   * every sequence below its oldest pending row was delivered. `absent` when none of the chain's events is on
   * the topic and the topic is not read from its start.
   */
  #tail(chain: Chain): AuditProblem | 'absent' | undefined {
    if (chain.appended === undefined) return undefined;
    const delivered = Math.min(chain.appended, chain.pendingLow - 1);
    const last = chain.highest.counter;
    if (last >= delivered) return undefined;
    if (last === 0 && !this.#fromStart) return 'absent';
    const problem = this.#gap(chain, last + 1, delivered, last, 0);
    const from = last + 1;
    const range = from === delivered ? `${from}` : `${from}-${delivered}`;
    const known =
      problem.ids.length === 0
        ? ''
        : ` (outbox id${problem.ids.length === 1 ? '' : 's'} ${problem.ids.join(', ')})`;
    return {
      ...problem,
      message: `counter sequence${from === delivered ? '' : 's'} ${range}${known} delivered (the outbox counted ${chain.appended}${chain.pendingLow <= chain.appended ? `, ${chain.pendingLow} and later pending` : ''}) but not on the topic: ${last === 0 ? 'the key has no event there' : `the key's last event there is ${last}`}`,
    };
  }

  #gap(chain: Chain, from: number, to: number, before: number, after: number): AuditProblem {
    const range = from === to ? `${from}` : `${from}-${to}`;
    const ids = [...chain.outbox.values()]
      .filter((row) => row.sequence >= from && row.sequence <= to)
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, 100)
      .map((row) => row.id);
    const known = ids.length === 0 ? '' : ` (outbox id${ids.length === 1 ? '' : 's'} ${ids.join(', ')})`;
    return {
      kind: 'missing',
      topic: this.#topic,
      source: chain.source,
      key: chain.key,
      expected: range,
      ids,
      at: [],
      message: `counter sequence${from === to ? '' : 's'} ${range}${known} never stored: ${before === 0 ? `the key's first event is sequence ${after}` : `the key has ${before}, then ${after}`}`,
    };
  }

  /**
   * Delivered outbox rows whose event is not on the topic (and not already named by a gap). Unless the topic
   * is read from its start, rows before the key's first event on the topic are left out: retention may have
   * removed them while the outbox still archives them.
   */
  #undelivered(gaps: readonly AuditProblem[]): AuditProblem[] {
    const named = new Set(gaps.flatMap((g) => g.ids));
    const out: AuditProblem[] = [];
    for (const row of this.#outboxIds.values()) {
      if (!row.delivered || this.#events.has(row.id) || named.has(row.id)) continue;
      const chain = this.#chain(row.source, row.key);
      if (!this.#fromStart && !(row.sequence >= chain.counterLow)) continue;
      out.push({
        kind: 'missing',
        topic: this.#topic,
        source: row.source,
        key: row.key,
        expected: `${row.sequence}`,
        ids: [row.id],
        at: [],
        message: `outbox row ${row.position} (event ${row.id}, sequence ${row.sequence}) was delivered but is not on the topic`,
      });
    }
    return out;
  }

  /**
   * Counter events the outbox does not have, within the sequences its rows of that key cover (any event the
   * outbox does not have when it is complete).
   */
  #invented(): AuditProblem[] {
    const out: AuditProblem[] = [];
    for (const event of this.#events.values()) {
      const chain = event.chain;
      if (this.#outboxIds.has(event.id)) continue;
      const low = chain.outboxLow;
      const high = chain.outboxHigh;
      const covered =
        event.kind === 'counter' && chain.outbox.size > 0 && event.sequence >= low && event.sequence <= high;
      if (!covered && !this.#outboxComplete) continue;
      const row = chain.outbox.get(event.sequence);
      out.push({
        kind: 'invented',
        topic: this.#topic,
        source: chain.source,
        key: chain.key,
        received: event.sequence,
        ids: [event.id],
        at: [event.at],
        message: `event ${event.id} (sequence ${event.sequence}) at ${where(event.at)} is not in the outbox, which ${covered ? `holds this key's rows ${low}-${high}` : 'holds every event appended'}${row ? ` (sequence ${event.sequence} there is ${row.id})` : ''}`,
      });
    }
    return out;
  }

  #chain(source: string, key: string): Chain {
    const id = chainOf(source, this.#topic, key);
    let chain = this.#chains.get(id);
    if (!chain) {
      chain = {
        source,
        key,
        counters: new Map(),
        highest: { counter: 0, position: Number.NEGATIVE_INFINITY },
        outbox: new Map(),
        counterLow: Number.POSITIVE_INFINITY,
        outboxLow: Number.POSITIVE_INFINITY,
        outboxHigh: Number.NEGATIVE_INFINITY,
        pendingLow: Number.POSITIVE_INFINITY,
        appended: undefined,
        events: 0,
      };
      this.#chains.set(id, chain);
    }
    return chain;
  }

  #problem(
    kind: AuditProblemKind,
    source: string,
    key: string,
    ids: string[],
    at: RecordPosition[],
    more: { expected?: string; received?: number; message: string },
  ): void {
    this.#problems.push({ kind, topic: this.#topic, source, key, ...more, ids, at });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function where(at: RecordPosition): string {
  return `partition ${at.partition} offset ${at.offset}`;
}
