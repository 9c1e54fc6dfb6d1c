import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ContractsLock, type LockedContract, type LockFinding, lockContract } from '@sluice/core';
import { loadContracts, stringOption } from '../../context.js';
import type { Resolved } from '../../options.js';

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
