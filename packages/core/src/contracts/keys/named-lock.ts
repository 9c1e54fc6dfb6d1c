import type { ContractsLock } from '../lock/contracts-lock.js';

/** A lock file and what to call its service in reports: the lock's `service` if it has one, else `name`. */
export interface NamedLock {
  /** Usually the lock file's path. */
  readonly name: string;
  readonly lock: ContractsLock;
}

/** The service a lock speaks for, as reports name it. */
export function serviceOf(named: NamedLock): string {
  return named.lock.service ?? named.name;
}
