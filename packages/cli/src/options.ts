import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SluiceError } from '@sluice/core';

/** One command-line option: resolved from the flag, then `SLUICE_<ENV>`, then the config file, then the default. */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly description: string;
  /** Environment variable suffix: `SLUICE_<env>`. Default: the name upper-cased with `_` for `-`. */
  readonly env?: string;
  readonly default?: string | number | boolean;
  readonly short?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: readonly OptionSpec[];
  readonly examples?: readonly string[];
}

export type Resolved = Record<string, string | number | boolean | undefined>;

/** Options every command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'config',
    type: 'string',
    description:
      'JSON file of options (keys are option names); for run and check, the service config module (sluice.config.ts, .mjs or .js)',
    default: 'sluice.config.json',
  },
  { name: 'help', type: 'boolean', short: 'h', description: 'show this help', env: '-' },
];

/** Errors the CLI reports as usage problems (exit code 2). */
export class UsageError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_USAGE', message);
  }
}

/**
 * Parses `args` against `spec`: flags first, then `SLUICE_*` environment variables, then the config file, then
 * defaults. Returns the options and the positional arguments.
 */
export function resolveOptions(
  spec: CommandSpec,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { options: Resolved; positionals: string[] } {
  const all = [...spec.options, ...COMMON_OPTIONS];
  const byName = new Map(all.map((o) => [o.name, o]));
  const byShort = new Map(all.filter((o) => o.short).map((o) => [o.short!, o]));
  const flags: Resolved = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = arg.startsWith('--') ? splitOnce(arg.slice(2)) : [arg.slice(1), undefined];
    const negated = rawName.startsWith('no-') && byName.get(rawName.slice(3))?.type === 'boolean';
    const opt = arg.startsWith('--')
      ? byName.get(negated ? rawName.slice(3) : rawName)
      : byShort.get(rawName);
    if (!opt)
      throw new UsageError(
        `unknown option ${arg} for \`sluice ${spec.name}\`; see \`sluice ${spec.name} --help\``,
      );
    if (opt.type === 'boolean') {
      flags[opt.name] = !negated;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`option --${opt.name} needs a value`);
    flags[opt.name] = convert(opt, value, `--${opt.name}`);
  }
  const configPath = (flags['config'] as string | undefined) ?? env['SLUICE_CONFIG'] ?? 'sluice.config.json';
  const config = readConfig(configPath, flags['config'] !== undefined || env['SLUICE_CONFIG'] !== undefined);
  const options: Resolved = {};
  for (const opt of all) {
    const envName =
      opt.env === '-' ? undefined : `SLUICE_${opt.env ?? opt.name.toUpperCase().replaceAll('-', '_')}`;
    const fromEnv = envName ? env[envName] : undefined;
    const fromConfig = config[opt.name];
    if (flags[opt.name] !== undefined) options[opt.name] = flags[opt.name];
    else if (fromEnv !== undefined && fromEnv !== '') options[opt.name] = convert(opt, fromEnv, envName!);
    else if (fromConfig !== undefined)
      options[opt.name] = convert(opt, String(fromConfig), `${configPath}: ${opt.name}`);
    else options[opt.name] = opt.default;
  }
  return { options, positionals };
}

function splitOnce(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function convert(opt: OptionSpec, value: string, where: string): string | number | boolean {
  if (opt.type === 'string') return value;
  if (opt.type === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${where} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new UsageError(`${where} must be true or false, got ${JSON.stringify(value)}`);
}

function readConfig(path: string, required: boolean): Record<string, unknown> {
  // A module (sluice.config.ts, .mjs, .js) is the service config of `sluice run` and `sluice check`, which load it.
  if (/\.(?:[cm]?[jt]s)$/i.test(path)) return {};
  const full = resolve(path);
  if (!existsSync(full)) {
    if (required) throw new UsageError(`config file ${full} does not exist`);
    return {};
  }
  try {
    const parsed = JSON.parse(readFileSync(full, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new UsageError(`config file ${full} is not a JSON object of options: ${String(cause)}`);
  }
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const all = [...spec.options, ...COMMON_OPTIONS];
  const rows = all.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'boolean' ? '' : ` <${o.type}>`}`;
    const env = o.env === '-' ? '' : ` [env SLUICE_${o.env ?? o.name.toUpperCase().replaceAll('-', '_')}]`;
    const def = o.default === undefined ? '' : ` (default: ${String(o.default)})`;
    return `  ${flag.padEnd(30)} ${o.description}${def}${env}`;
  });
  return [
    `sluice ${spec.name} — ${spec.summary}`,
    '',
    `Usage: ${spec.usage}`,
    '',
    'Options (a flag wins over SLUICE_* environment variables, which win over the config file, then defaults):',
    ...rows,
    ...(spec.examples?.length ? ['', 'Examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
    '',
  ].join('\n');
}
