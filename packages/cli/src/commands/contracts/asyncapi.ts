import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { toAsyncApi } from '@sluice/core';
import { loadContracts } from '../../context.js';
import { isModuleConfig } from '../../load-service-config.js';
import { UsageError } from '../../options.js';
import { configTransports } from './config-transports.js';
import { CONTRACTS_MODULE_OPTION, type ContractsSubcommand } from './contracts-subcommand.js';
import { API_VERSION_OPTION, OUT_OPTION, TITLE_OPTION, titleAndVersion } from './export-options.js';

/**
 * `sluice contracts asyncapi`: the AsyncAPI 3.0.0 document (JSON) of the contracts module: a channel per topic,
 * a message per contract version, a `send` operation per channel, and with `--config sluice.config.ts` a
 * server per configured transport.
 */
export const asyncapiSubcommand: ContractsSubcommand = {
  name: 'asyncapi',
  summary: 'write the AsyncAPI 3.0 document (JSON) of the contracts',
  usage:
    'sluice contracts asyncapi --contracts MODULE [--config sluice.config.ts] [--out FILE] [--title T] [--api-version V]',
  options: [CONTRACTS_MODULE_OPTION, OUT_OPTION, TITLE_OPTION, API_VERSION_OPTION],
  async run(options) {
    const specifier = options['contracts'];
    if (typeof specifier !== 'string' || specifier === '')
      throw new UsageError('--contracts MODULE is required: the module exporting your event contracts');
    const contracts = await loadContracts(specifier);
    const config = options['config'];
    const servers =
      typeof config === 'string' && isModuleConfig(config) ? await configTransports(config) : undefined;
    const doc = toAsyncApi(contracts, {
      ...titleAndVersion(options),
      ...(servers === undefined ? {} : { servers }),
    });
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const out = options['out'];
    if (typeof out !== 'string' || out === '' || out === '-') {
      process.stdout.write(text);
      return 0;
    }
    const file = resolve(out);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    const channels = Object.keys(doc['channels'] as object).length;
    const messages = Object.keys((doc['components'] as { messages: object }).messages).length;
    process.stderr.write(`wrote ${file}: AsyncAPI 3.0.0, ${channels} channels, ${messages} messages\n`);
    return 0;
  },
};
