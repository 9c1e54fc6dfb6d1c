/** A config value read from an environment variable when the service starts (see {@link env}). */
export interface EnvRef {
  readonly kind: 'sluice.env';
  readonly name: string;
  readonly fallback: string | undefined;
}

/**
 * A config value taken from the environment variable `name` when `sluice run` (or `sluice check`) starts, so
 * secrets and URLs stay out of the config file. Without `fallback`, an unset (or empty) variable stops the
 * start with `SLUICE_CONFIG_ENV_MISSING` naming it and the field that needs it.
 *
 * ```ts
 * stores: { app: { kind: 'postgres', url: env('DATABASE_URL') } }
 * ```
 */
export function env(name: string, fallback?: string): EnvRef & string {
  // Typed as a string so it fits wherever one is expected; `resolveConfig` replaces it before anything reads it.
  return Object.freeze({ kind: 'sluice.env', name, fallback }) as unknown as EnvRef & string;
}

/** Whether a value is an {@link env} reference. */
export function isEnvRef(value: unknown): value is EnvRef {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'sluice.env';
}
