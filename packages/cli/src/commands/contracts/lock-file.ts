import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ContractsLock, type LockedContract, type LockFinding, lockContract } from '@sluice/core';
import { loadContracts, stringOption } from '../../context.js';
import { type Resolved, UsageError } from '../../options.js';

/** The lock file at `--lock`, or undefined when it does not exist. */
export function readLockFile(path: string): ContractsLock | undefined {
  if (!existsSync(path)) return undefined;
  let lock: ContractsLock;
  try {
    lock = JSON.parse(readFileSync(path, 'utf8')) as ContractsLock;
  } catch (cause) {
    throw new UsageError(
      `${path} is not valid JSON (${String(cause)}): restore it from version control, or delete it and run \`sluice contracts lock\``,
    );
  }
  if (lock?.lockVersion !== 1 || !Array.isArray(lock.contracts)) {
    throw new UsageError(
      `${path} is not a contracts lock (lockVersion 1): restore it from version control, or delete it and run \`sluice contracts lock\``,
    );
  }
  return lock;
}

/** Writes a lock as pretty JSON with a newline at the end, its versions sorted by type then version. */
export function writeLockFile(path: string, lock: ContractsLock): void {
  const contracts = [...lock.contracts].sort((a, b) =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : a.version - b.version,
  );
  writeFileSync(path, `${JSON.stringify({ ...lock, contracts }, null, 2)}\n`);
}

/** The `--lock` path, resolved, and the code's contract versions (from `--contracts`) as locked entries. */
export async function codeAndLockPath(options: Resolved): Promise<{ path: string; code: LockedContract[] }> {
  const contracts = await loadContracts(stringOption(options, 'contracts'));
  return { path: resolve(stringOption(options, 'lock')), code: contracts.map(lockContract) };
}

/** `contract <type> v<N>: <path>: <message>`, the line `check` and `lock` print per finding. */
export function findingLine(f: LockFinding): string {
  const where = f.path === undefined ? '' : `${f.path}: `;
  return `${f.severity === 'warning' ? 'warning: ' : ''}contract ${f.type} v${f.version}: ${where}${f.message}`;
}
