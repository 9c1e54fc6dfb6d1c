import type { PartitionCursor } from '@sluice/core/adapter';
import type { NatsCursor, PulledMessage } from './nats-cursor.js';
import type { NatsTopic } from './nats-topics.js';

/** The reader of one owned partition, valid while `at` is the engine's cursor of that partition. */
export interface Reader {
  readonly at: PartitionCursor;
  readonly topic: NatsTopic;
  cursor: NatsCursor | undefined;
  /** Position the cursor was opened at plus what it delivered; differs from `at.next` after a seek. */
  cursorAt: bigint;
  /**
   * Read-ahead of an event or message topic's partition: the cursor's next pull, started when a poll took a
   * full share from it and the stream had more, so the next poll finds records without a round trip. At most
   * one pull of `maxRecords` per partition; dropped with the cursor.
   */
  ahead: Promise<PulledMessage[]> | undefined;
  /** Records the cursor returned that no poll has taken yet (from a read-ahead larger than the poll's share). */
  leftover: PulledMessage[];
}

/** Closes a reader's cursor and forgets what it pulled ahead: the next poll opens a new cursor at its position. */
export function dropReader(reader: Reader): void {
  reader.cursor?.close();
  reader.cursor = undefined;
  reader.cursorAt = -1n;
  reader.ahead = undefined;
  reader.leftover = [];
}

/** Up to `want` records from the cursor: what a read-ahead left, then the read-ahead, then a new pull. */
export async function takeFrom(reader: Reader, cursor: NatsCursor, want: number): Promise<PulledMessage[]> {
  if (reader.leftover.length === 0 && reader.ahead !== undefined) {
    const ahead = reader.ahead;
    reader.ahead = undefined;
    reader.leftover = await ahead;
  }
  if (reader.leftover.length > 0) return reader.leftover.splice(0, want);
  return cursor.pull(want);
}

/**
 * Starts the next pull of a partition's cursor now, so the next poll finds its records without a round trip.
 * Not on entity topics (a member must not hold values replaced meanwhile); never more than one pull ahead
 * per partition, and only when nothing is left over from the last one.
 */
export function readAhead(reader: Reader, maxRecords: number): void {
  const cursor = reader.cursor;
  if (
    reader.topic.entity ||
    cursor === undefined ||
    cursor.broken ||
    reader.cursorAt !== reader.at.next ||
    reader.ahead !== undefined ||
    reader.leftover.length > 0
  ) {
    return;
  }
  const ahead = cursor.pull(maxRecords);
  ahead.catch(() => undefined); // awaited (and its failure handled) by the next poll that reads this partition
  reader.ahead = ahead;
}
