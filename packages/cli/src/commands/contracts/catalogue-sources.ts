import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { type LockedContract, lockContract } from '@sluice/core';
import { loadContracts } from '../../context.js';
import type { Resolved } from '../../options.js';
import { UsageError } from '../../options.js';
import { LOCK_OPTION } from './contracts-subcommand.js';
import { readLockFile } from './read-lock-file.js';

/** One contract version in the catalogue, and where it was read from. */
export interface CatalogueEntry {
  readonly contract: LockedContract;
  /** The producing service, when a lock file names it. */
  readonly service?: string;
  /** `--contracts` module or lock file it came from. */
  readonly from: string;
}

/**
 * The contracts `sluice contracts docs` shows: the `--contracts` module's (locked in memory, so they look like
 * lock entries) and every `--lock` file's (comma-separated; other services' lock files show who else carries a
 * key). A version both in the module and in a lock file is shown once, from the module. The default lock file
 * is read when it exists; a lock file named explicitly must exist.
 */
export async function catalogueContracts(
  options: Resolved,
): Promise<{ entries: CatalogueEntry[]; sources: string[] }> {
  const entries: CatalogueEntry[] = [];
  const sources: string[] = [];
  const seen = new Set<string>();
  const add = (contract: LockedContract, from: string, service?: string) => {
    const id = `${service ?? ''}\u0000${contract.type}@${contract.version}`;
    if (seen.has(id) || seen.has(`\u0000${contract.type}@${contract.version}`)) return;
    seen.add(id);
    entries.push({ contract, from, ...(service === undefined ? {} : { service }) });
  };
  const specifier = options['contracts'];
  if (typeof specifier === 'string' && specifier !== '') {
    for (const c of await loadContracts(specifier)) add(lockContract(c), specifier);
    sources.push(shown(specifier));
  }
  const lockOption = typeof options['lock'] === 'string' ? options['lock'] : '';
  const files = lockOption
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) {
      if (file === LOCK_OPTION.default) continue;
      throw new UsageError(
        `lock file ${path} does not exist; pass the lock files to show with --lock FILE,...`,
      );
    }
    const { lock } = readLockFile(path);
    for (const c of lock.contracts) add(c, file, lock.service);
    sources.push(shown(file));
  }
  if (entries.length === 0)
    throw new UsageError('nothing to show: pass --contracts MODULE and/or --lock FILE,... with contracts');
  return { entries, sources };
}

/** A source as the page names it: relative to the working directory when inside it, else its file name. */
function shown(source: string): string {
  if (!source.startsWith('.') && !isAbsolute(source)) return source; // a package name
  const rel = relative(process.cwd(), resolve(source));
  return rel.startsWith('..') || isAbsolute(rel) ? basename(source) : rel;
}
