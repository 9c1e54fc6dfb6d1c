import { SluiceError } from '../../errors.js';

/**
 * How far a query-based source has read: the last row handed over (incrementing mode: its id; timestamp+incrementing
 * mode: its timestamp in microseconds and its id). Every row at or before the cursor, in the mode's order, was
 * handed over or passed as a gap. Stored as JSON by the source's {@link PositionStore}.
 */
export interface QueryCursor {
  readonly timestamp?: number;
  readonly id: number;
}

/** The cursor as the JSON string stored as a change's position. */
export function formatCursor(cursor: QueryCursor): string {
  return cursor.timestamp === undefined
    ? JSON.stringify({ id: cursor.id })
    : JSON.stringify({ timestamp: cursor.timestamp, id: cursor.id });
}

/**
 * Parses a stored position of source `name`, which must have the shape of `mode`; a position of the other mode
 * (the source was reconfigured) or a damaged one is a permanent error: guessing would skip or repeat rows.
 */
export function parseCursor(name: string, position: string, timestamped: boolean): QueryCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(position);
  } catch {
    parsed = undefined;
  }
  const p = parsed as { timestamp?: unknown; id?: unknown } | undefined;
  const valid =
    typeof p === 'object' &&
    p !== null &&
    Number.isSafeInteger(p.id) &&
    (timestamped ? Number.isSafeInteger(p.timestamp) : p.timestamp === undefined);
  if (!valid) {
    const shape = timestamped ? '{"timestamp": <microseconds>, "id": <id>}' : '{"id": <id>}';
    throw new SluiceError(
      'SLUICE_QUERY_POSITION_INVALID',
      `${name}: the stored position ${JSON.stringify(position)} is not ${shape}, the cursor of this source's mode. If the source's mode or columns changed, give it a new name (it starts from the table's first row) or save a position of the new shape in its position store`,
    );
  }
  return timestamped ? { timestamp: p.timestamp as number, id: p.id as number } : { id: p.id as number };
}
