import type { SeekTarget } from '@sluice/core';
import { UsageError } from '../options.js';

/** Parses `earliest`, `latest`, an ISO time, or `PARTITION:OFFSET`. */
export function parseSeekTarget(text: string): SeekTarget {
  if (text === 'earliest' || text === 'latest') return { to: text };
  const po = /^(\d+):(\d+)$/.exec(text);
  if (po) return { to: 'offset', partition: Number(po[1]), offset: po[2]! };
  const time = Date.parse(text);
  if (!Number.isNaN(time) && /^\d{4}-\d{2}-\d{2}/.test(text)) return { to: 'time', time };
  throw new UsageError(
    `cannot read ${JSON.stringify(text)} as a position: use earliest, latest, an ISO time, or PARTITION:OFFSET`,
  );
}
