import type { EventContract, EventData } from '../contracts/define-event.js';
import type { Envelope, SequenceKind } from '../envelope/envelope.js';

/** An event as a handler receives it: validated data plus the envelope's attributes and its position. */
export interface ConsumedEvent<Data = Record<string, unknown>> {
  readonly id: string;
  readonly type: string;
  /** The version of the handler's contract: the data has this shape. */
  readonly version: number;
  /**
   * Set when the event was published as an older version and carried to `version` by upcasters: the version on
   * the wire (its contract is `envelope.dataschema`). Absent when the wire version is the handler's own.
   */
  readonly upcastFrom?: number;
  readonly key: string;
  /** Orders the key's events (see `sequenceKind`). */
  readonly sequence: number;
  /** `counter`: gap-free from 1 per source and key (outbox); `position`: a commit position (CDC, polling). */
  readonly sequenceKind: SequenceKind;
  readonly source: string;
  readonly time: string;
  readonly data: Data;
  readonly envelope: Envelope<Data>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** What a handler gets besides the event. */
export interface HandlerContext<Tx> {
  /** The consumer database's transaction the inbox record commits in: write your side effects through it. */
  readonly tx: Tx;
  /** 1 on the first delivery to this handler, then 2, 3, ... on retries. */
  readonly attempt: number;
}

/** A handler bound to one contract (type and version). */
export interface Handler<Tx> {
  readonly contract: EventContract;
  readonly fn: (event: ConsumedEvent, context: HandlerContext<Tx>) => unknown;
}

/**
 * Binds a typed handler to a contract. The handler runs inside the inbox transaction: everything it writes
 * through `context.tx` commits together with the record that the event was applied, exactly once.
 */
export function handle<C extends EventContract, Tx = unknown>(
  contract: C,
  fn: (event: ConsumedEvent<EventData<C>>, context: HandlerContext<Tx>) => unknown,
): Handler<Tx> {
  return { contract, fn: fn as Handler<Tx>['fn'] };
}

/** `handle`, bound to one consumer's transaction type; what `consume({ handlers: (on) => [...] })` passes. */
export type HandlerFactory<Tx> = <C extends EventContract>(
  contract: C,
  fn: (event: ConsumedEvent<EventData<C>>, context: HandlerContext<Tx>) => unknown,
) => Handler<Tx>;

/** Handlers as a list, or as a function of `on` (typed with the inbox's transaction type). */
export type Handlers<Tx> = readonly Handler<Tx>[] | ((on: HandlerFactory<Tx>) => readonly Handler<Tx>[]);

/** The list form of `handlers`. */
export function resolveHandlers<Tx>(handlers: Handlers<Tx>): readonly Handler<Tx>[] {
  return typeof handlers === 'function' ? handlers((contract, fn) => handle(contract, fn)) : handlers;
}
