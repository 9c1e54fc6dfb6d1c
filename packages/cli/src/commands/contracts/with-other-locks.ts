import { type ContractsLock, compareSharedKeys, type NamedLock } from '@sluice/core';
import type { OptionSpec } from '../../options.js';
import { pathList, readLockFile } from './read-lock-file.js';

/** `--with FILE[,FILE…]`: other services' lock files whose shared keys must agree with this service's. */
export const WITH_OPTION: OptionSpec = {
  name: 'with',
  type: 'string',
  description:
    "other services' contracts.lock.json files (comma-separated): every key both use must have the same schema and meaning",
  env: '-',
};

/**
 * The `--with` part of `sluice contracts check`: reads the other services' lock files, compares the shared keys
 * of `own` (the code's contracts, or this service's lock) with theirs (`compareSharedKeys`), writes one line per
 * mismatch and returns how many there are (errors: `check` exits 1 when any).
 */
export function checkWithOtherLocks(
  own: ContractsLock | NamedLock,
  withOption: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): number {
  const others = pathList(withOption).map(readLockFile);
  const mismatches = compareSharedKeys(own, others);
  for (const m of mismatches) write(`error ${m.message}`);
  return mismatches.length;
}
