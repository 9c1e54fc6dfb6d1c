import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { messageId, toJsonSchema } from '@sluice/core';
import { loadContracts } from '../../context.js';
import { UsageError } from '../../options.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand } from './contracts-subcommand.js';
import { OUT_OPTION } from './export-options.js';

/**
 * `sluice contracts json-schema`: one JSON Schema (draft 2020-12, with Sluice's `x-sluice` metadata) per contract
 * version, `DIR/<type>.v<N>.schema.json`, as `toJsonSchema` makes it. Files of versions no longer in the module
 * are left alone.
 */
export const jsonSchemaSubcommand: ContractsSubcommand = {
  name: 'json-schema',
  summary: 'write one JSON Schema file per contract version',
  usage: 'sluice contracts json-schema --contracts MODULE --out DIR',
  options: [CONTRACTS_MODULE_OPTION, OUT_OPTION],
  async run(options) {
    const specifier = options['contracts'];
    if (typeof specifier !== 'string' || specifier === '')
      throw new UsageError('--contracts MODULE is required: the module exporting your event contracts');
    const out = options['out'];
    if (typeof out !== 'string' || out === '')
      throw new UsageError('--out DIR is required: the directory to write the schema files to');
    const contracts = await loadContracts(specifier);
    const dir = resolve(out);
    mkdirSync(dir, { recursive: true });
    const sorted = [...contracts].sort((a, b) =>
      a.type < b.type ? -1 : a.type > b.type ? 1 : a.version - b.version,
    );
    for (const c of sorted) {
      const file = join(dir, `${messageId(c)}.schema.json`);
      writeFileSync(file, `${JSON.stringify(toJsonSchema(c), null, 2)}\n`);
      process.stdout.write(`${file}\n`);
    }
    process.stderr.write(`wrote ${sorted.length} JSON Schema files to ${dir}\n`);
    return 0;
  },
};
