import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackfillPermissionSources, ChangeMapping } from '@sluice/core';
import { loadContracts } from '../context.js';
import { importModule } from '../load-service-config.js';
import type { OptionSpec } from '../options.js';

/** `--contracts` of `sluice backfill`: what tells it whether the table's events allow a backfill. */
export const BACKFILL_CONTRACTS_OPTION: OptionSpec = {
  name: 'contracts',
  type: 'string',
  description:
    "module (path or package) exporting the source's contracts and, ideally, its change mapping declared with defineChangeMapping({ tables, map }): a backfill of a table feeding a contract with backfill: false is refused (SLUICE_BACKFILL_FORBIDDEN). Without a declared mapping any contract given that forbids backfills refuses; without --contracts nothing is checked here, and the relay refuses such snapshot rows when it runs the backfill",
};

/** The contracts and declared change mappings `--contracts` exports; nothing when it is not given. */
export async function loadBackfillPermissionSources(
  specifier: string | undefined,
): Promise<BackfillPermissionSources> {
  if (!specifier) return {};
  const contracts = await loadContracts(specifier);
  const url =
    specifier.startsWith('.') || specifier.startsWith('/')
      ? pathToFileURL(resolve(specifier)).href
      : specifier;
  const mappings = Object.values(await importModule(url)).filter(
    (v): v is ChangeMapping =>
      typeof v === 'function' && typeof (v as { tables?: unknown }).tables === 'object',
  );
  return { contracts, mappings };
}
