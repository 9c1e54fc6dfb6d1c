import { checkLock } from '@sluice/core';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { codeAndLockPath, findingLine, readLockFile } from './lock-file.js';

/**
 * `sluice contracts check`: compares the code's contracts with the lock file. One line per finding; exit 1 on any
 * error (a locked version changed, a version not locked, a live version removed, an incompatible new version),
 * 0 with only warnings (a deprecated version still produced).
 */
export const checkSubcommand: ContractsSubcommand = {
  name: 'check',
  summary:
    "compare the code's contracts with the lock file: immutable versions, compatibility between versions",
  usage: 'sluice contracts check --contracts ./src/contracts.ts [--lock contracts.lock.json]',
  options: [CONTRACTS_MODULE_OPTION, LOCK_OPTION],
  async run(options) {
    const { path, code } = await codeAndLockPath(options);
    const lock = readLockFile(path);
    if (lock === undefined) {
      console.log(`${path} does not exist: run \`sluice contracts lock\` and commit it`);
      return 1;
    }
    const findings = checkLock(lock, code);
    for (const f of findings) console.log(findingLine(f));
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.length - errors;
    console.log(
      errors === 0
        ? `${path}: ${code.length} contract versions match${warnings === 0 ? '' : ` (${warnings} warnings)`}`
        : `${path}: ${errors} errors, ${warnings} warnings`,
    );
    return errors === 0 ? 0 : 1;
  },
};
