import { resolve } from 'node:path';
import { type ContractsLock, checkLock, createRegistry, lockContract, type NamedLock } from '@sluice/core';
import { loadContracts } from '../../context.js';
import { UsageError } from '../../options.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { findingLine } from './lock-file.js';
import { readLockFile, readLockFileIfExists } from './read-lock-file.js';
import { checkWithOtherLocks, WITH_OPTION } from './with-other-locks.js';

/**
 * `sluice contracts check`: compares the code's contracts (`--contracts`) with the lock file, and this
 * service's shared keys with other services' lock files (`--with`; this service's keys from the code, else from
 * its lock). One line per finding; exit 1 on any error (a locked version changed, a version not locked, a live
 * version removed, an incompatible new version, a key conflict within the service or with another), 0 with only
 * warnings (a deprecated version still produced).
 */
export const checkSubcommand: ContractsSubcommand = {
  name: 'check',
  summary:
    "compare the code's contracts with the lock file (immutable versions, compatibility between versions) and shared keys with other services' locks",
  usage:
    'sluice contracts check --contracts ./src/contracts.ts [--lock contracts.lock.json] [--with ../other/contracts.lock.json[,…]]',
  options: [CONTRACTS_MODULE_OPTION, LOCK_OPTION, WITH_OPTION],
  async run(options) {
    const module = typeof options['contracts'] === 'string' ? options['contracts'] : '';
    const withOption = typeof options['with'] === 'string' ? options['with'] : '';
    const path = resolve(String(options['lock']));
    if (module === '' && withOption === '') {
      throw new UsageError(
        'say what to check: --contracts MODULE (against the lock file), and/or --with ../other/contracts.lock.json',
      );
    }
    let errors = 0;
    let warnings = 0;
    let own: ContractsLock | NamedLock;
    if (module !== '') {
      // createRegistry refuses contracts that disagree on a key within this service (SLUICE_KEY_CONFLICT).
      const code = createRegistry(await loadContracts(module))
        .all()
        .map(lockContract);
      own = { name: module, lock: { lockVersion: 1, contracts: code } };
      const lock = readLockFileIfExists(path);
      if (lock === undefined) {
        console.log(`${path} does not exist: run \`sluice contracts lock\` and commit it`);
        errors++;
      } else {
        const findings = checkLock(lock, code);
        for (const f of findings) console.log(findingLine(f));
        const e = findings.filter((f) => f.severity === 'error').length;
        errors += e;
        warnings += findings.length - e;
        if (e === 0) {
          console.log(
            `${path}: ${code.length} contract versions match${warnings === 0 ? '' : ` (${warnings} warnings)`}`,
          );
        }
      }
    } else own = readLockFile(path);
    if (withOption !== '') {
      const mismatches = checkWithOtherLocks(own, withOption);
      errors += mismatches;
      process.stderr.write(
        mismatches === 0
          ? `shared keys agree with ${withOption}\n`
          : `${mismatches} shared-key mismatch${mismatches === 1 ? '' : 'es'} with ${withOption}\n`,
      );
    }
    if (errors > 0) process.stderr.write(`${errors} errors, ${warnings} warnings\n`);
    return errors === 0 ? 0 : 1;
  },
};
