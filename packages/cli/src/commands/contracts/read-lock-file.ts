import { existsSync, readFileSync } from 'node:fs';
import type { ContractsLock, NamedLock } from '@sluice/core';
import { UsageError } from '../../options.js';

/**
 * Reads a `contracts.lock.json` (this service's or another's), named by its path for reports. A file that is
 * missing or is not a lock (lockVersion 1 with a contracts array) is a usage error naming the file.
 */
export function readLockFile(path: string): NamedLock {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const missing = (cause as { code?: unknown }).code === 'ENOENT';
    throw new UsageError(
      missing
        ? `lock file ${path} does not exist: write it with \`sluice contracts lock\` in that service, or give the right path`
        : `cannot read lock file ${path}: ${String(cause)}`,
    );
  }
  let lock: unknown;
  try {
    lock = JSON.parse(text);
  } catch (cause) {
    throw new UsageError(
      `lock file ${path} is not JSON (${String(cause)}): write it with \`sluice contracts lock\``,
    );
  }
  const l = lock as Partial<ContractsLock> | null;
  if (l?.lockVersion !== 1 || !Array.isArray(l.contracts)) {
    throw new UsageError(
      `${path} is not a contracts lock (lockVersion 1 with a contracts array): write it with \`sluice contracts lock\``,
    );
  }
  return { name: path, lock: l as ContractsLock };
}

/** The comma-separated paths of an option such as `--with a.json,b.json`, without empty entries. */
export function pathList(value: string): string[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** This service's lock file, or undefined when it does not exist yet (a file that is not a lock is a usage error). */
export function readLockFileIfExists(path: string): ContractsLock | undefined {
  return existsSync(path) ? readLockFile(path).lock : undefined;
}
