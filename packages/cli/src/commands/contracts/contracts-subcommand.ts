import type { OptionSpec, Resolved } from '../../options.js';

/**
 * One sub-command of `sluice contracts` (lock, check, keys, asyncapi, json-schema, docs). Its options are merged
 * into the command's spec, so two sub-commands naming the same option must give it the same type and meaning.
 * `run` gets the positionals after the sub-command's name and returns the exit code.
 */
export interface ContractsSubcommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  run(options: Resolved, positionals: string[]): Promise<number>;
}

/** `--contracts MODULE`: the module whose exported event contracts are the service's. */
export const CONTRACTS_MODULE_OPTION: OptionSpec = {
  name: 'contracts',
  type: 'string',
  description: 'module exporting the event contracts (.ts through tsx, .js, .mjs, or a package name)',
};

/** `--lock FILE`: the service's lock file. */
export const LOCK_OPTION: OptionSpec = {
  name: 'lock',
  type: 'string',
  description: 'the lock file',
  default: 'contracts.lock.json',
  env: '-',
};
