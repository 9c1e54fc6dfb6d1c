import type { ConsumeOptions, OutboxStore } from '@sluice/core';

/** What one business transaction of the demo appended (committed, or rolled back on purpose). */
export interface DemoAppend {
  readonly id: string;
  readonly key: string;
}

/** The enrollments service's operations, as the demo calls them (`failAfterAppend` rolls back on purpose). */
export interface DemoService {
  enroll(courseId: string, studentId: string, options: { failAfterAppend: boolean }): Promise<DemoAppend>;
  recordProgress(
    enrollmentId: string,
    progress: number,
    options: { failAfterAppend: boolean },
  ): Promise<DemoAppend>;
  cancel(
    enrollmentId: string,
    reason: 'student-request' | 'payment-failed',
    options: { failAfterAppend: boolean },
  ): Promise<DemoAppend>;
}

/** One row of the consumer's side-effect ledger (`side_effects`). */
export interface DemoSideEffect {
  readonly eventId: string;
  /** How many times the handler's writes committed for this event: 1 unless the inbox failed. */
  readonly applied: number;
  readonly latencyMs: number;
}

/** `consume()` options the demo chooses; the store adds its inbox and the projection's handlers. */
export type DemoConsumeOptions = Omit<ConsumeOptions<unknown>, 'inbox' | 'handlers'>;

/** Where the demo's data lives, for the summary. */
export type DemoStoreInfo =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      /** The database URL without its password. */
      readonly database: string;
      readonly schema: string;
      /** Whether the schema is still there (`--keep`) or was dropped at the end. */
      readonly kept: boolean;
    };

/**
 * The databases of one demo run: the enrollments service's tables and outbox (producer side), the consumer's
 * materialized tables and inbox, in SQLite files or in one PostgreSQL schema. The store owns creating them,
 * the service, the consumer's inbox and handlers, the queries the demo's checks read, and closing (or dropping)
 * everything in {@link close}. It does not own the bus, the relay processes, failure injection or the checks:
 * those are the demo's.
 */
export interface DemoStore {
  /** `SQLite` or `PostgreSQL`, for the summary's title. */
  readonly label: string;
  readonly service: DemoService;
  /** Arguments of `sluice relay` that name this outbox (besides --log and --contracts). */
  readonly relayArgs: readonly string[];
  /** Environment of the relay processes (a connection URL is passed here, not on their command line). */
  readonly relayEnv: Readonly<Record<string, string>>;
  /** Starts a consumer of the projection on this store's inbox; the caller stops it. */
  consume(options: DemoConsumeOptions): { stop(): Promise<void> };
  /** Events applied so far (rows of the side-effect ledger). */
  appliedCount(): Promise<number>;
  sideEffects(): Promise<DemoSideEffect[]>;
  /** Events applied out of their key's sequence order. */
  orderViolations(): Promise<number>;
  /** The relay instances holding a live lease on (part of) the outbox; their owner strings contain `:<pid>:`. */
  leaseOwners(): Promise<string[]>;
  info(): DemoStoreInfo;
  /** Closes what the store opened and, unless kept, drops what it created. Idempotent. */
  close(): Promise<void>;
}

/** The relay instances holding a live lease on some partition of `outbox`, from its stats. */
export async function leaseOwnersOf(outbox: OutboxStore): Promise<string[]> {
  const { partitions } = await outbox.stats();
  return [...new Set(partitions.flatMap((p) => (p.owner === null ? [] : [p.owner])))];
}
