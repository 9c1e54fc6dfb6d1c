import { AckPolicy, type ConsumerConfig, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { HeaderBlock } from './header-block.js';
import { type DeliveryInfo, deliveryInfo } from './nats-codec.js';
import { natsError } from './nats-errors.js';

const decoder = new TextDecoder();

/**
 * A stored message as a cursor returns it, copied out of the client's message as it arrives, so a batch held
 * between polls keeps a few strings alive rather than the client's buffers and objects.
 */
export class PulledMessage {
  readonly subject: string;
  readonly sequence: number;
  readonly timestamp: number;
  /** Messages left after this one for the cursor's filter. */
  readonly pending: number;
  readonly headers: HeaderBlock | undefined;
  /** The body as UTF-8 text ('' when empty, as for a tombstone or a headers-only read). */
  readonly body: string;

  constructor(msg: Msg, info: DeliveryInfo, headers: HeaderBlock | undefined) {
    this.subject = msg.subject;
    this.sequence = info.streamSequence;
    this.timestamp = info.timestampMs;
    this.pending = info.pending;
    this.headers = headers;
    const data = msg.data;
    this.body = data.length === 0 ? '' : decoder.decode(data);
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
 * (R1, in memory), read with `no_wait` pulls of exactly the number of records asked for, so nothing is
 * delivered that the caller did not ask for and nothing is buffered between pulls. Positions and commits are
 * the caller's: the consumer only remembers how far it delivered.
 *
 * If a pull fails or times out (the consumer's node died, or it expired), the cursor is broken: the caller
 * drops it and opens a new one at its own position.
 */
export class NatsCursor {
  readonly #ctx: CursorContext;
  readonly #stream: string;
  readonly #name: string;
  #closed = false;

  private constructor(ctx: CursorContext, stream: string, name: string) {
    this.#ctx = ctx;
    this.#stream = stream;
    this.#name = name;
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

  /** Up to `batch` records after the last one returned; fewer (maybe none) when the stream has no more. */
  pull(batch: number): Promise<PulledMessage[]> {
    const { nc, pullTimeoutMs } = this.#ctx;
    const inbox = createInbox();
    const out: PulledMessage[] = [];
    return new Promise<PulledMessage[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        sub.unsubscribe();
        if (error === undefined) resolve(out);
        else {
          this.#closed = true;
          reject(natsError(`reading stream ${this.#stream}`, error));
        }
      };
      const sub = nc.subscribe(inbox, {
        callback: (error, msg) => {
          if (error) return finish(error);
          const headers = HeaderBlock.of(msg);
          const code = headers?.code ?? 0;
          if (code >= 100) {
            // 404 No Messages / 408 Request Timeout end a no_wait pull; anything else breaks the cursor.
            if (code === 404 || code === 408) return finish();
            return finish(new Error(`status ${code} ${headers?.description ?? ''}`));
          }
          const info = deliveryInfo(msg.reply);
          if (info === undefined) return finish(new Error(`unexpected message on ${msg.subject}`));
          out.push(new PulledMessage(msg, info, headers));
          if (out.length >= batch) finish();
        },
      });
      timer = setTimeout(
        () => finish(new Error(`no answer to a pull within ${pullTimeoutMs} ms`)),
        pullTimeoutMs,
      );
      nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${this.#stream}.${this.#name}`,
        JSON.stringify({ batch, no_wait: true }),
        { reply: inbox },
      );
    });
  }

  /** Whether a pull failed: the caller opens a new cursor. */
  get broken(): boolean {
    return this.#closed;
  }

  /** Deletes the consumer (best effort: an abandoned one expires on the server). */
  close(): void {
    this.#closed = true;
    this.#ctx.jsm.consumers.delete(this.#stream, this.#name).catch(() => undefined);
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
