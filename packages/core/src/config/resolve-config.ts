import { SluiceError } from '../errors.js';
import { isEnvRef } from './env-ref.js';
import type { SluiceConfig } from './sluice-config.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function invalid(file: string, field: string, reason: string): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', `${file}: \`${field}\` ${reason}`);
}

/**
 * Replaces every `env()` reference in plain objects and arrays (functions and class instances are left as they
 * are); a variable unset without a fallback is `SLUICE_CONFIG_ENV_MISSING`, naming it and the field (`path`) of
 * config file `file`.
 */
export function resolveEnvRefs(
  value: unknown,
  path: string,
  environment: NodeJS.ProcessEnv,
  file: string,
): unknown {
  return substitute(value, path, environment, file);
}

function substitute(value: unknown, path: string, environment: NodeJS.ProcessEnv, file: string): unknown {
  if (isEnvRef(value)) {
    const set = environment[value.name];
    if (set !== undefined && set !== '') return set;
    if (value.fallback !== undefined) return value.fallback;
    throw new SluiceError(
      'SLUICE_CONFIG_ENV_MISSING',
      `${file}: \`${path}\` comes from the environment variable ${value.name}, which is not set: set ${value.name} (or give env('${value.name}', fallback) a default)`,
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, environment, file));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = substitute(v, path === '' ? k : `${path}.${k}`, environment, file);
    return out;
  }
  return value;
}

/**
 * A config as `sluice run` uses it: every `env()` reference replaced by its variable's value (a missing one is
 * `SLUICE_CONFIG_ENV_MISSING`, naming the variable and the field), and checked: names, ports, and that each
 * pipeline names a declared store and transport (`SLUICE_CONFIG_INVALID`, naming the field). `only` keeps the
 * listed pipelines (an unknown name is an error). Nothing is opened or connected.
 */
export function resolveConfig(
  config: unknown,
  options: {
    readonly file?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly only?: readonly string[];
  } = {},
): SluiceConfig {
  const file = options.file ?? 'config';
  if (config === null || typeof config !== 'object') {
    throw invalid(file, 'default export', 'must be the object of defineConfig({...})');
  }
  const raw = config as Partial<SluiceConfig>;
  if (
    raw.pipelines === null ||
    typeof raw.pipelines !== 'object' ||
    Object.keys(raw.pipelines).length === 0
  ) {
    throw invalid(file, 'pipelines', 'must declare at least one pipeline');
  }
  const resolved = substitute(config, '', options.env ?? process.env, file) as SluiceConfig;
  const stores = resolved.stores ?? {};
  const transports = resolved.transports ?? {};
  for (const [section, names] of [
    ['stores', Object.keys(stores)],
    ['transports', Object.keys(transports)],
    ['pipelines', Object.keys(resolved.pipelines)],
  ] as const) {
    for (const name of names) {
      if (!NAME.test(name))
        throw invalid(file, `${section}.${name}`, 'must be named with letters, digits, ".", "_" or "-"');
    }
  }
  const port = resolved.http?.port;
  if (port !== undefined && (!Number.isInteger(Number(port)) || Number(port) < 0 || Number(port) > 65535)) {
    throw invalid(file, 'http.port', `must be a port number (0-65535), got ${JSON.stringify(port)}`);
  }
  for (const [name, p] of Object.entries(resolved.pipelines)) {
    const at = `pipelines.${name}`;
    const kind = (p as { kind?: unknown })?.kind;
    if (kind !== 'relay' && kind !== 'changes' && kind !== 'consumer') {
      throw invalid(file, `${at}.kind`, `must be relay, changes or consumer, got ${JSON.stringify(kind)}`);
    }
    if (!(p.transport in transports)) {
      throw invalid(
        file,
        `${at}.transport`,
        `names ${JSON.stringify(p.transport)}, which \`transports\` does not declare (declared: ${Object.keys(transports).join(', ') || 'none'})`,
      );
    }
    if ((p.kind === 'relay' || p.kind === 'consumer') && !(p.store in stores)) {
      throw invalid(
        file,
        `${at}.store`,
        `names ${JSON.stringify(p.store)}, which \`stores\` does not declare (declared: ${Object.keys(stores).join(', ') || 'none'})`,
      );
    }
    if (p.kind === 'consumer' && (typeof p.group !== 'string' || p.group === '')) {
      throw invalid(file, `${at}.group`, 'is required (the consumer group)');
    }
    if (p.kind === 'consumer' && typeof p.handlers !== 'function' && !Array.isArray(p.handlers)) {
      throw invalid(file, `${at}.handlers`, 'is required: the handlers, as createConsumer takes them');
    }
    if (p.kind === 'changes' && typeof p.changes !== 'function') {
      throw invalid(file, `${at}.changes`, 'must be a function returning what createChangeOutbox takes');
    }
    if (p.kind !== 'consumer' && !Array.isArray(p.topics)) {
      throw invalid(file, `${at}.topics`, 'must list the topics the pipeline publishes to');
    }
  }
  if (options.only !== undefined && options.only.length > 0) {
    const kept: Record<string, SluiceConfig['pipelines'][string]> = {};
    for (const name of options.only) {
      const p = resolved.pipelines[name];
      if (p === undefined) {
        throw invalid(
          file,
          `--only ${name}`,
          `names no pipeline (declared: ${Object.keys(resolved.pipelines).join(', ')})`,
        );
      }
      kept[name] = p;
    }
    return { ...resolved, pipelines: kept };
  }
  return resolved;
}
