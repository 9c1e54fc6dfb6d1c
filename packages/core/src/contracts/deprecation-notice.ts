import type { Logger } from '../util/logger.js';
import type { EventContract } from './define-event.js';

/**
 * Whether `contract` is deprecated at `time` (ms since the epoch, or an RFC 3339 timestamp such as an event's
 * `time`): it has `deprecated` and the UTC date of `time` is on or after `deprecated.since`.
 */
export function isDeprecatedAt(contract: EventContract, time: number | string): boolean {
  const since = contract.deprecated?.since;
  if (since === undefined) return false;
  const at = new Date(time);
  if (Number.isNaN(at.getTime())) return false;
  return at.toISOString().slice(0, 10) >= since;
}

/** The fields a deprecation warning carries: what is deprecated, since when, why and what replaces it. */
export function deprecationFields(contract: EventContract): Record<string, unknown> {
  const d = contract.deprecated;
  return {
    type: contract.type,
    version: contract.version,
    since: d?.since,
    ...(d?.reason === undefined ? {} : { reason: d.reason }),
    ...(d?.replacedBy === undefined ? {} : { replacedBy: d.replacedBy }),
  };
}

/** Type and version already warned about in this process. */
const warnedAppends = new Set<string>();

/**
 * Called by outboxes at each append: when `contract` is deprecated at `now`, warns through `logger` that it is
 * still produced, once per type and version per process (later appends of it say nothing).
 */
export function warnDeprecatedAppend(contract: EventContract, logger: Logger, now = Date.now()): void {
  if (contract.deprecated === undefined || !isDeprecatedAt(contract, now)) return;
  const id = `${contract.type}@${contract.version}`;
  if (warnedAppends.has(id)) return;
  warnedAppends.add(id);
  const replaced = contract.deprecated.replacedBy;
  logger.warn(
    `appending ${contract.type} v${contract.version}, deprecated since ${contract.deprecated.since}: ${
      replaced === undefined ? 'move its producers on' : `publish v${replaced} instead`
    } (warned once per process)`,
    deprecationFields(contract),
  );
}
