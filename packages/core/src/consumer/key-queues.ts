import type { ConsumedRecord, TopicPartition } from '../transport/records.js';
import type { Item } from './consumer-item.js';

/**
 * The records a consumer holds, by partition (for commits) and by key (for order). Per key only the head may
 * run: the next event of a key becomes ready once the previous one settled. Items wait in `ready` (to run
 * now) or `delayed` (until `nextAttemptAt`). A settled item leaves its partition only when committed, and a
 * partition's position is committed only up to its first unsettled item, so a crash redelivers, never skips.
 */
export class KeyQueues {
  readonly #ordered: boolean;
  readonly #isMissing: (held: Item, other: Item) => boolean;
  readonly #onRunFirst: (held: Item, missing: Item) => void;
  /** Per topic and partition, items in offset order until committed. */
  readonly #partitions = new Map<string, Map<number, Item[]>>();
  /**
   * Per topic and key, items not yet settled, in order; the head is the one allowed to run. Maps within maps,
   * not one map by a joined string: no string is built per record.
   */
  readonly #keys = new Map<string, Map<string, Item[]>>();
  #ready: Item[] = [];
  #delayed: Item[] = [];
  #buffered = 0;
  /** Records settled since the last commit. */
  #pendingCommit = 0;
  /** Items held for a gap or order (`onGap: 'hold'`): each is the head of its key. */
  readonly held = new Set<Item>();

  /**
   * `ordered` is false for `keyOrdering: 'none'`. `isMissing` says whether an item queued behind a held head is
   * the event its chain misses; `onRunFirst` is told when such an item is moved before the held one.
   */
  constructor(
    ordered: boolean,
    isMissing: (held: Item, other: Item) => boolean,
    onRunFirst: (held: Item, missing: Item) => void,
  ) {
    this.#ordered = ordered;
    this.#isMissing = isMissing;
    this.#onRunFirst = onRunFirst;
  }

  /** Records held, settled or not, until committed. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Records settled since the last commit. */
  get pendingCommit(): number {
    return this.#pendingCommit;
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  get delayedCount(): number {
    return this.#delayed.length;
  }

  /** The next ready item (call only when `readyCount > 0`). */
  takeReady(): Item {
    return this.#ready.shift()!;
  }

  /** Puts an item taken with `takeReady` back at the front. */
  putBack(item: Item): void {
    this.#ready.unshift(item);
  }

  /** Waits `item` until its `nextAttemptAt`. */
  delay(item: Item): void {
    this.#delayed.push(item);
  }

  /** Adds a delivered record: ready at once if it heads its key (or keys are not ordered). */
  enqueue(record: ConsumedRecord): void {
    const item: Item = { record, attempts: 0, nextAttemptAt: 0, done: false };
    let partitions = this.#partitions.get(record.topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.#partitions.set(record.topic, partitions);
    }
    const inPartition = partitions.get(record.partition);
    if (inPartition) inPartition.push(item);
    else partitions.set(record.partition, [item]);
    this.#buffered++;
    if (!this.#ordered) {
      this.#ready.push(item);
      return;
    }
    let keys = this.#keys.get(record.topic);
    if (keys === undefined) {
      keys = new Map();
      this.#keys.set(record.topic, keys);
    }
    const queue = keys.get(record.key);
    if (queue) {
      queue.push(item);
      const head = queue[0]!;
      if (this.held.has(head) && this.#isMissing(head, item)) this.#runFirst(head, item, queue);
    } else {
      keys.set(record.key, [item]);
      this.#ready.push(item);
    }
  }

  /** Settles an item: marks it done and lets the next event of its key run. */
  settle(item: Item): void {
    item.done = true;
    this.#pendingCommit++;
    const { record } = item;
    if (!this.#ordered) return;
    const keys = this.#keys.get(record.topic);
    const queue = keys?.get(record.key);
    if (!queue) return;
    queue.shift();
    const next = queue[0];
    if (next === undefined) keys!.delete(record.key);
    else if (next.nextAttemptAt <= Date.now()) this.#ready.push(next);
    else this.#delayed.push(next);
  }

  /**
   * If the event the held `item`'s chain misses is already queued behind it (re-published), moves it to the
   * head of the key and lets it run first; returns whether it did.
   */
  runMissingFirst(item: Item): boolean {
    const queue = this.#keys.get(item.record.topic)?.get(item.record.key);
    const missing = queue?.find((other, i) => i > 0 && this.#isMissing(item, other));
    if (!queue || !missing) return false;
    this.#runFirst(item, missing, queue);
    return true;
  }

  /** Moves delayed items that are due to `ready`. */
  promoteDue(): void {
    if (this.#delayed.length === 0) return;
    const now = Date.now();
    const still: Item[] = [];
    for (const item of this.#delayed) (item.nextAttemptAt <= now ? this.#ready : still).push(item);
    this.#delayed = still;
  }

  /** Milliseconds until the first delayed item is due (infinite when none). */
  untilNextRetry(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.#delayed) next = Math.min(next, item.nextAttemptAt);
    return Math.max(0, next - Date.now());
  }

  /**
   * Per partition, the last record of the settled prefix (what to commit); forgets that prefix. Resets the
   * count of records settled since the last commit.
   */
  takeSettledPositions(): ConsumedRecord[] {
    this.#pendingCommit = 0;
    const positions: ConsumedRecord[] = [];
    for (const partitions of this.#partitions.values()) {
      for (const items of partitions.values()) {
        let n = 0;
        while (n < items.length && items[n]!.done) n++;
        if (n === 0) continue;
        positions.push(items[n - 1]!.record);
        items.splice(0, n);
        this.#buffered -= n;
      }
    }
    return positions;
  }

  /** Forgets records of partitions no longer `owned`; their new owner reads them again. */
  dropRevoked(owned: readonly TopicPartition[]): void {
    const keep = new Set(owned.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    let dropped = false;
    for (const [topic, partitions] of this.#partitions) {
      for (const [partition, items] of partitions) {
        if (keep.has(`${topic}\u0000${partition}`)) continue;
        partitions.delete(partition);
        this.#buffered -= items.length;
        dropped = true;
      }
    }
    if (!dropped) return;
    const live = (item: Item) => keep.has(`${item.record.topic}\u0000${item.record.partition}`);
    this.#ready = this.#ready.filter(live);
    this.#delayed = this.#delayed.filter(live);
    for (const item of this.held) if (!live(item)) this.held.delete(item);
    for (const keys of this.#keys.values()) {
      for (const [key, queue] of keys) {
        const kept = queue.filter(live);
        if (kept.length === 0) keys.delete(key);
        else keys.set(key, kept);
      }
    }
  }

  /** Moves `missing` to the head of its key, before the held event, and lets it run; the held one follows. */
  #runFirst(held: Item, missing: Item, queue: Item[]): void {
    queue.splice(queue.indexOf(missing), 1);
    queue.unshift(missing);
    this.#delayed = this.#delayed.filter((i) => i !== held);
    this.#ready = this.#ready.filter((i) => i !== held);
    held.nextAttemptAt = 0;
    this.#ready.push(missing);
    this.#onRunFirst(held, missing);
  }
}
