import type { OptionSpec } from '../options.js';
import { UsageError } from '../options.js';
import type { Command } from './command.js';
import { asyncapiSubcommand } from './contracts/asyncapi.js';
import { checkSubcommand } from './contracts/check.js';
import type { ContractsSubcommand } from './contracts/contracts-subcommand.js';
import { docsSubcommand } from './contracts/docs.js';
import { jsonSchemaSubcommand } from './contracts/json-schema.js';
import { keysSubcommand } from './contracts/keys.js';
import { lockSubcommand } from './contracts/lock.js';

/** The sub-commands of `sluice contracts`, in the order `--help` lists them. */
export const CONTRACTS_SUBCOMMANDS: readonly ContractsSubcommand[] = [
  lockSubcommand,
  checkSubcommand,
  keysSubcommand,
  asyncapiSubcommand,
  jsonSchemaSubcommand,
  docsSubcommand,
];

/** Every sub-command's options, each once (the first declaration of a name wins; they must agree). */
function mergedOptions(): OptionSpec[] {
  const byName = new Map<string, OptionSpec>();
  for (const s of CONTRACTS_SUBCOMMANDS)
    for (const o of s.options) if (!byName.has(o.name)) byName.set(o.name, o);
  return [...byName.values()];
}

export const contractsCommand: Command = {
  spec: {
    name: 'contracts',
    summary: 'lock, check, list and export the event contracts a service publishes',
    usage: [
      'sluice contracts <sub-command> [options]',
      ...CONTRACTS_SUBCOMMANDS.map((s) => `  ${s.name.padEnd(12)} ${s.summary}\n      ${s.usage}`),
    ].join('\n'),
    options: mergedOptions(),
    examples: CONTRACTS_SUBCOMMANDS.map((s) => s.usage),
  },
  async run(options, positionals) {
    const [name, ...rest] = positionals;
    const sub = CONTRACTS_SUBCOMMANDS.find((s) => s.name === name);
    if (sub === undefined) {
      const names = CONTRACTS_SUBCOMMANDS.map((s) => s.name).join(' | ');
      throw new UsageError(
        name === undefined
          ? `say what to do: sluice contracts ${names}`
          : `unknown sub-command ${JSON.stringify(name)}: sluice contracts ${names}`,
      );
    }
    return sub.run(options, rest);
  },
};
