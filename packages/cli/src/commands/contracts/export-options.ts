import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OptionSpec, Resolved } from '../../options.js';

/** `--out`: where an export goes (a file for asyncapi, a directory for json-schema and docs). */
export const OUT_OPTION: OptionSpec = {
  name: 'out',
  type: 'string',
  description:
    'where to write: the file for asyncapi (default: standard output), the directory for json-schema and docs',
  env: '-',
};

/** `--title`: the exported documents' title. */
export const TITLE_OPTION: OptionSpec = {
  name: 'title',
  type: 'string',
  description:
    "title of the AsyncAPI document and the HTML catalogue (default: the name in the working directory's package.json)",
  env: '-',
};

/** `--api-version`: AsyncAPI's `info.version`. */
export const API_VERSION_OPTION: OptionSpec = {
  name: 'api-version',
  type: 'string',
  description:
    "AsyncAPI info.version (default: the version in the working directory's package.json, else 0.0.0)",
  env: '-',
};

/** The title and version to write: the options, else the working directory's package.json, else defaults. */
export function titleAndVersion(options: Resolved): { title: string; version: string } {
  let pkg: { name?: unknown; version?: unknown } = {};
  const file = resolve('package.json');
  if (existsSync(file)) {
    try {
      pkg = JSON.parse(readFileSync(file, 'utf8')) as typeof pkg;
    } catch {
      // Not ours to validate: fall back to the defaults.
    }
  }
  const title =
    typeof options['title'] === 'string' && options['title'] !== ''
      ? options['title']
      : typeof pkg.name === 'string'
        ? pkg.name
        : 'Sluice event contracts';
  const version =
    typeof options['api-version'] === 'string' && options['api-version'] !== ''
      ? options['api-version']
      : typeof pkg.version === 'string'
        ? pkg.version
        : '0.0.0';
  return { title, version };
}
