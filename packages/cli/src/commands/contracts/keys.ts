import { existsSync } from 'node:fs';
import { buildLock, type KeyCarriers, listKeyCarriers, type NamedLock } from '@sluice/core';
import { JSON_OPTION, loadContracts } from '../../context.js';
import type { Resolved } from '../../options.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { pathList, readLockFile } from './read-lock-file.js';

/**
 * `sluice contracts keys`: per key type, every event version (of every lock file given, and of `--contracts`)
 * that carries it, as its key or in a field: who can join with whom.
 */
export const keysSubcommand: ContractsSubcommand = {
  name: 'keys',
  summary: 'list per key type every event that carries it (as key or field), across lock files',
  usage: 'sluice contracts keys [--lock FILE[,FILE…]] [--contracts MODULE] [--json]',
  options: [LOCK_OPTION, CONTRACTS_MODULE_OPTION, JSON_OPTION],
  async run(options) {
    const keys = listKeyCarriers(await locksOf(options));
    if (options['json']) {
      for (const k of keys) console.log(JSON.stringify(k));
    } else {
      console.log(formatKeyCarriers(keys));
    }
    return 0;
  },
};

/**
 * The locks `keys` lists: each `--lock` file, then the lock of the `--contracts` module. With `--contracts`, a
 * missing default `contracts.lock.json` is skipped; any other missing file is an error.
 */
async function locksOf(options: Resolved): Promise<NamedLock[]> {
  const module = typeof options['contracts'] === 'string' ? options['contracts'] : '';
  const files = pathList(String(options['lock'] ?? ''));
  const skipDefault = module !== '' && files.length === 1 && files[0] === LOCK_OPTION.default;
  const locks = files.filter((f) => !(skipDefault && !existsSync(f))).map(readLockFile);
  if (module !== '') locks.push({ name: module, lock: buildLock(await loadContracts(module)) });
  return locks;
}

/** The text `keys` prints: a block per key, a line per carrying event version with its service and topic. */
export function formatKeyCarriers(keys: readonly KeyCarriers[]): string {
  if (keys.length === 0) return 'no keys: the lock files hold no contracts';
  const blocks = keys.map((k) => {
    const rows = k.carriers.map((c) => [
      c.as,
      `${c.type} v${c.version}`,
      c.service,
      `topic ${c.topic}`,
      `field ${c.field}${c.sameShape ? '' : ' (another shape: see `sluice contracts check --with`)'}`,
    ]);
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    const services = new Set(k.carriers.map((c) => c.service)).size;
    return [
      `${k.key}: ${k.description}`,
      `  declared by ${k.declaredBy.join(', ')}; carried by ${k.carriers.length} event version${k.carriers.length === 1 ? '' : 's'} of ${services} service${services === 1 ? '' : 's'}`,
      ...rows.map((r) => `  ${r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`),
    ].join('\n');
  });
  return blocks.join('\n\n');
}
