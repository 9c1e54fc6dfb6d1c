import { type ContractsLock, checkVersions, editOf, type LockedContract, matchesLocked } from '@sluice/core';
import type { OptionSpec } from '../../options.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { codeAndLockPath, findingLine, writeLockFile } from './lock-file.js';
import { readLockFileIfExists } from './read-lock-file.js';

const FORCE_OPTION: OptionSpec = {
  name: 'force',
  type: 'boolean',
  description:
    'lock: overwrite changed locked versions, lock incompatible new versions and drop locked versions no longer in the code',
  default: false,
  env: '-',
};
const SERVICE_OPTION: OptionSpec = {
  name: 'service',
  type: 'string',
  description:
    "lock: the producing service (the events' source, e.g. urn:service:enrollments), recorded in the lock",
};

const key = (c: LockedContract) => `${c.type}@${c.version}`;

/**
 * `sluice contracts lock`: writes the lock file from the code's contracts. New versions are added (if compatible
 * with the earlier ones under their mode); a changed locked version, or an incompatible new one, is refused
 * (naming each change) unless `--force`. Locked versions no longer in the code are kept (their consumers still
 * exist; `check` reports them) unless `--force`.
 */
export const lockSubcommand: ContractsSubcommand = {
  name: 'lock',
  summary:
    "write the lock file (contracts.lock.json) from the code's contracts; locked versions never change",
  usage:
    'sluice contracts lock --contracts ./src/contracts.ts [--lock contracts.lock.json] [--service URN] [--force]',
  options: [CONTRACTS_MODULE_OPTION, LOCK_OPTION, SERVICE_OPTION, FORCE_OPTION],
  async run(options) {
    const { path, code } = await codeAndLockPath(options);
    const force = options['force'] === true;
    const existing = readLockFileIfExists(path);
    const before = new Map((existing?.contracts ?? []).map((c) => [key(c), c]));
    const inCode = new Set(code.map(key));
    const edits = code.flatMap((c) => {
      const was = before.get(key(c));
      return was !== undefined && !matchesLocked(was, c) ? editOf(was, c) : [];
    });
    const kept = force ? [] : (existing?.contracts ?? []).filter((c) => !inCode.has(key(c)));
    const service = (options['service'] as string | undefined) ?? existing?.service;
    const next: ContractsLock = {
      lockVersion: 1,
      ...(service === undefined ? {} : { service }),
      contracts: [...kept, ...code],
    };
    const incompatible = checkVersions(next, code);
    const problems = [...edits, ...incompatible];
    for (const f of problems) console.log(findingLine(f));
    if (problems.length > 0 && !force) {
      console.log(
        `refusing to write ${path}: ${edits.length} changes to locked versions, ${incompatible.length} incompatibilities between versions (see above); fix them, or pass --force to lock anyway`,
      );
      return 1;
    }
    writeLockFile(path, next);
    const added = code.filter((c) => !before.has(key(c))).length;
    const changed = new Set(edits.map((f) => `${f.type}@${f.version}`)).size;
    console.log(
      `${path}: ${next.contracts.length} contract versions locked (${added} added, ${changed} changed, ${kept.length} kept from the lock but no longer in the code)`,
    );
    return 0;
  },
};
