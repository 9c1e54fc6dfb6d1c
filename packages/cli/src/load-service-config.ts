import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type SluiceConfig, SluiceError } from '@sluice/core';
import type { Resolved } from './options.js';

/** The service config files looked for, in order, when `--config` names none. */
export const SERVICE_CONFIG_FILES = [
  'sluice.config.ts',
  'sluice.config.mts',
  'sluice.config.mjs',
  'sluice.config.js',
];

/** Whether a `--config` path names a module (a service config) rather than a JSON file of options. */
export function isModuleConfig(path: string): boolean {
  return /\.(?:[cm]?[jt]s)$/i.test(path);
}

/**
 * Imports a service config (`export default defineConfig({...})`): `.js` and `.mjs` directly, `.ts` and
 * `.mts` through tsx. Without `path` (or with the JSON default), the first of {@link SERVICE_CONFIG_FILES} in
 * the working directory. Returns the file and its default export, not yet resolved.
 */
export async function loadServiceConfig(
  path: string | undefined,
): Promise<{ file: string; config: unknown }> {
  let file: string;
  if (path !== undefined && isModuleConfig(path)) file = resolve(path);
  else {
    const found = SERVICE_CONFIG_FILES.map((f) => resolve(f)).find((f) => existsSync(f));
    if (found === undefined) {
      throw new SluiceError(
        'SLUICE_CONFIG_INVALID',
        `no service config: pass --config sluice.config.ts (or .mjs/.js), or create ${SERVICE_CONFIG_FILES[0]} in ${process.cwd()}`,
      );
    }
    file = found;
  }
  if (!existsSync(file)) throw new SluiceError('SLUICE_CONFIG_INVALID', `config file ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(pathToFileURL(file).href);
  } catch (cause) {
    throw new SluiceError(
      'SLUICE_CONFIG_INVALID',
      `config file ${file} could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  const config = mod['default'] ?? mod['config'];
  if (config === undefined) {
    throw new SluiceError(
      'SLUICE_CONFIG_INVALID',
      `config file ${file} has no default export: export default defineConfig({...})`,
    );
  }
  return { file, config };
}

/** `--config` loaded and resolved (env, references), keeping the pipelines `--only` lists (comma-separated). */
export async function loadResolvedConfig(
  options: Resolved,
): Promise<{ file: string; resolved: SluiceConfig }> {
  const { file, config } = await loadServiceConfig(options['config'] as string | undefined);
  const only =
    typeof options['only'] === 'string'
      ? options['only']
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  return { file, resolved: resolveConfig(config, { file, only }) };
}

/**
 * Imports a module by URL or package name: a `.ts` / `.mts` file through tsx (so `--config` and `--contracts`
 * may name TypeScript sources), anything else with Node's own `import()`.
 */
export async function importModule(specifier: string): Promise<Record<string, unknown>> {
  if (/^file:.*\.m?ts$/i.test(specifier)) {
    const { tsImport } = (await import('tsx/esm/api')) as {
      tsImport: (specifier: string, parent: string) => Promise<Record<string, unknown>>;
    };
    return tsImport(specifier, import.meta.url);
  }
  return (await import(specifier)) as Record<string, unknown>;
}
