import { buildLock, createRegistry, type NamedLock } from '@sluice/core';
import { loadContracts } from '../../context.js';
import { UsageError } from '../../options.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { readLockFile } from './read-lock-file.js';
import { checkWithOtherLocks, WITH_OPTION } from './with-other-locks.js';

/**
 * `sluice contracts check`, the shared-key part only (`--with`): this service's keys (from `--contracts`, else
 * `--lock`) against other services' lock files. The compatibility checks against the lock are another file's;
 * the merge folds `checkWithOtherLocks` into that command.
 */
export const checkSubcommand: ContractsSubcommand = {
  name: 'check',
  summary: "check the contracts: shared keys agree with other services' lock files (--with)",
  usage: 'sluice contracts check [--contracts MODULE | --lock FILE] --with ../other/contracts.lock.json[,…]',
  options: [CONTRACTS_MODULE_OPTION, LOCK_OPTION, WITH_OPTION],
  async run(options) {
    const withOption = options['with'];
    if (typeof withOption !== 'string' || withOption.length === 0) {
      throw new UsageError('say which lock files to check against: --with ../other/contracts.lock.json');
    }
    const module = options['contracts'];
    let own: NamedLock;
    if (typeof module === 'string' && module.length > 0) {
      // createRegistry refuses contracts that disagree on a key within this service (SLUICE_KEY_CONFLICT).
      const contracts = createRegistry(await loadContracts(module)).all();
      own = { name: module, lock: buildLock(contracts) };
    } else own = readLockFile(String(options['lock']));
    const errors = checkWithOtherLocks(own, withOption);
    process.stderr.write(
      errors === 0
        ? `shared keys agree with ${withOption}\n`
        : `${errors} shared-key mismatch${errors === 1 ? '' : 'es'} with ${withOption}\n`,
    );
    return errors === 0 ? 0 : 1;
  },
};
