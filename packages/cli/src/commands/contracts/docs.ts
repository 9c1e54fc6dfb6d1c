import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../options.js';
import { renderCatalogue } from './catalogue-html.js';
import { catalogueContracts } from './catalogue-sources.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand, LOCK_OPTION } from './contracts-subcommand.js';
import { OUT_OPTION, TITLE_OPTION, titleAndVersion } from './export-options.js';

/**
 * `sluice contracts docs`: the static HTML catalogue `DIR/index.html` of the contracts module's events and of
 * the lock files given (other services' too), with the key types and the events that carry them.
 */
export const docsSubcommand: ContractsSubcommand = {
  name: 'docs',
  summary: 'write the HTML event catalogue (one self-contained index.html)',
  usage: 'sluice contracts docs --contracts MODULE [--lock FILE[,FILE...]] --out DIR [--title T]',
  options: [CONTRACTS_MODULE_OPTION, LOCK_OPTION, OUT_OPTION, TITLE_OPTION],
  async run(options) {
    const out = options['out'];
    if (typeof out !== 'string' || out === '')
      throw new UsageError('--out DIR is required: the directory to write index.html to');
    const { entries, sources } = await catalogueContracts(options);
    const html = renderCatalogue(entries, { title: titleAndVersion(options).title, sources });
    const dir = resolve(out);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.html');
    writeFileSync(file, html);
    process.stdout.write(`${file}\n`);
    process.stderr.write(`wrote ${file}: ${entries.length} contract versions from ${sources.join(', ')}\n`);
    return 0;
  },
};
