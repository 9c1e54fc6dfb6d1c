import { AckPolicy, type ConsumerConfig, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription as NatsSub,
} from '@nats-io/transport-node';
import { type DeliveryInfo, deliveryInfo, type StoredMessage } from './nats-codec.js';
import { natsError } from './nats-errors.js';

/** A stored message as a cursor returns it. */
export interface PulledMessage extends StoredMessage {
  readonly subject: string;
  /** Messages left after this one for the cursor's filter. */
  readonly pending: number;
}

/** A delivered message: subject, headers and body are decoded from it only when asked for. */
class Pulled implements PulledMessage {
  readonly msg: Msg;
  readonly sequence: number;
  readonly timestamp: number;
  readonly pending: number;

  constructor(msg: Msg, info: DeliveryInfo) {
    this.msg = msg;
    this.sequence = info.streamSequence;
    this.timestamp = info.timestampMs;
    this.pending = info.pending;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }
}

/** Where a cursor starts: a stream sequence (0 = the first record), a time, or one record per subject. */
export type CursorStart =
  | { readonly seq: number }
  | { readonly time: number }
  | { readonly lastPerSubject: true; readonly headersOnly?: boolean };

/** What a cursor needs from the transport. */
export interface CursorContext {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** How long one pull may take before the cursor is considered lost. */
  readonly pullTimeoutMs: number;
}

/** How long an abandoned cursor's consumer lives on the server (a crashed client cannot delete it). */
const INACTIVE_THRESHOLD_NS = 10 * 60 * 1_000_000_000;

/**
 * A reader of one stream filter from a position: an ephemeral JetStream pull consumer with `AckPolicy.None`
 * (R1, in memory), read through one inbox subscription with `no_wait` pulls, one pull outstanding at a time.
 * Positions and commits are the caller's: the consumer only remembers how far it delivered.
 *
 * `pull(batch)` returns what the cursor holds, else waits for a pull. Without `prefetch` a pull asks for
 * exactly the records asked for, so nothing is delivered that the caller did not ask for and nothing is held
 * between calls. With `prefetch` (never on entity topics), the cursor pulls the next `prefetch` records when
 * no pull is outstanding, the stream has more and it holds at most `prefetch`, so it never holds more than two
 * pulls' worth; `close` drops them.
 *
 * If a pull fails or times out (the consumer's node died, or it expired), the cursor is broken: the caller
 * drops it and opens a new one at its own position.
 */
export class NatsCursor {
  readonly #ctx: CursorContext;
  readonly #stream: string;
  readonly #name: string;
  readonly #subject: string;
  #inbox: NatsSub | undefined;
  /** Records delivered and not returned yet, from `#head` on. */
  #held: PulledMessage[] = [];
  #head = 0;
  /** Records the outstanding pull may still deliver; 0 when none is outstanding. */
  #asked = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Callers waiting for the outstanding pull to end. */
  #waiters: (() => void)[] = [];
  /** Records the stream had after the last one delivered (`-1` before any). */
  #pending = -1;
  #prefetch = 0;
  #error: Error | undefined;
  #closed = false;

  private constructor(ctx: CursorContext, stream: string, name: string) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.#name = name;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${name}`;
  }

  /** Creates the consumer. */
  static async open(
    ctx: CursorContext,
    stream: string,
    filter: string,
    start: CursorStart,
  ): Promise<NatsCursor> {
    const config: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.None,
      filter_subject: filter,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: INACTIVE_THRESHOLD_NS,
      ...deliverFrom(start),
    };
    try {
      const info = await ctx.jsm.consumers.add(stream, config);
      return new NatsCursor(ctx, stream, info.name);
    } catch (error) {
      throw natsError(`opening a reader on stream ${stream}`, error);
    }
  }

  /**
   * Up to `batch` records after the last one returned; fewer (maybe none) when the stream has no more. With
   * `prefetch` > 0 the cursor keeps the next records on the way (see the class comment); 0 stops it.
   */
  async pull(batch: number, prefetch = 0): Promise<PulledMessage[]> {
    this.#prefetch = prefetch;
    if (this.#held.length - this.#head === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#closed) return [];
      if (this.#asked === 0) this.#request(Math.max(batch, prefetch));
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      if (this.#held.length - this.#head === 0 && this.#error !== undefined) throw this.#error;
    }
    const end = Math.min(this.#held.length, this.#head + batch);
    const out = this.#held.slice(this.#head, end);
    if (end === this.#held.length) {
      this.#held = [];
      this.#head = 0;
    } else this.#head = end;
    this.#refill();
    return out;
  }

  /** Starts a pull of `prefetch` records now if the cursor holds none and none is outstanding. */
  prefetch(prefetch: number): void {
    this.#prefetch = prefetch;
    if (this.#held.length - this.#head === 0) this.#refill(true);
  }

  /** Whether a pull failed: the caller opens a new cursor. */
  get broken(): boolean {
    return this.#error !== undefined;
  }

  /** Deletes the consumer (best effort: an abandoned one expires on the server) and drops what it held. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox?.unsubscribe();
    this.#inbox = undefined;
    this.#held = [];
    this.#head = 0;
    this.#end();
    this.#ctx.jsm.consumers.delete(this.#stream, this.#name).catch(() => undefined);
  }

  /** Pulls the next `prefetch` records if the stream has more and the cursor holds at most `prefetch`. */
  #refill(unknown = false): void {
    const p = this.#prefetch;
    if (p <= 0 || this.#asked > 0 || this.#closed || this.#error !== undefined) return;
    if (this.#pending === 0 || (this.#pending < 0 && !unknown)) return;
    if (this.#held.length - this.#head > p) return;
    this.#request(p);
  }

  #request(batch: number): void {
    const { nc, pullTimeoutMs } = this.#ctx;
    if (this.#inbox === undefined) {
      const inbox = createInbox();
      this.#inbox = nc.subscribe(inbox, { callback: (error, msg) => this.#receive(error, msg) });
    }
    this.#asked = batch;
    this.#timer = setTimeout(
      () => this.#fail(new Error(`no answer to a pull within ${pullTimeoutMs} ms`)),
      pullTimeoutMs,
    );
    nc.publish(this.#subject, JSON.stringify({ batch, no_wait: true }), { reply: this.#inbox.getSubject() });
  }

  #receive(error: Error | null, msg: Msg): void {
    if (this.#closed || this.#asked === 0) return;
    if (error) {
      this.#fail(error);
      return;
    }
    const info = deliveryInfo(msg.reply);
    if (info === undefined) {
      const code = msg.headers?.code ?? 0;
      // 404 No Messages / 408 Request Timeout end a no_wait pull; anything else breaks the cursor.
      if (code === 404 || code === 408) {
        this.#pending = 0;
        this.#end();
      } else if (code >= 100) this.#fail(new Error(`status ${code} ${msg.headers?.description ?? ''}`));
      else this.#fail(new Error(`unexpected message on ${msg.subject}`));
      return;
    }
    this.#held.push(new Pulled(msg, info));
    this.#pending = info.pending;
    if (--this.#asked === 0) {
      this.#end();
      this.#refill();
    }
  }

  /** The outstanding pull ended (or the cursor failed or closed): wake who waits for it. */
  #end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#asked = 0;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #fail(error: unknown): void {
    if (this.#error === undefined) this.#error = natsError(`reading stream ${this.#stream}`, error);
    this.#inbox?.unsubscribe();
    this.#inbox = undefined;
    this.#end();
  }
}

function deliverFrom(start: CursorStart): Partial<ConsumerConfig> {
  if ('lastPerSubject' in start) {
    return {
      deliver_policy: DeliverPolicy.LastPerSubject,
      ...(start.headersOnly ? { headers_only: true } : {}),
    };
  }
  if ('time' in start) {
    return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.time).toISOString() };
  }
  if (start.seq <= 1) return { deliver_policy: DeliverPolicy.All };
  return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq };
}
