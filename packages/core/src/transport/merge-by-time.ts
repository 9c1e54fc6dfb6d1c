import type { ConsumedRecord } from './records.js';

/**
 * Merges per-partition lists, oldest head first, keeping each partition's order; at most `limit` records. For
 * transports' `read` of several partitions.
 */
export function mergeByTime(lists: ConsumedRecord[][], limit: number): ConsumedRecord[] {
  const out: ConsumedRecord[] = [];
  const heads = lists.map(() => 0);
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const candidate = lists[i]![heads[i]!];
      if (
        candidate !== undefined &&
        (best < 0 || candidate.timestamp < lists[best]![heads[best]!]!.timestamp)
      )
        best = i;
    }
    if (best < 0) break;
    out.push(lists[best]![heads[best]!]!);
    heads[best]!++;
  }
  return out;
}
