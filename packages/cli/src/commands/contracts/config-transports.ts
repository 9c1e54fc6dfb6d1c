import { resolveEnvRefs, SluiceError, type TransportConfig } from '@sluice/core';
import { loadServiceConfig } from '../../load-service-config.js';

/**
 * The `transports` of a service config, with their `env()` references resolved, for exports that describe the
 * service's buses (`sluice contracts asyncapi`). Only the transports need their variables set: an export does
 * not need the database URLs the pipelines use. A transport whose variable is unset (without a fallback) is
 * `SLUICE_CONFIG_ENV_MISSING`, naming it.
 */
export async function configTransports(
  path: string,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, TransportConfig | string>> {
  const { file, config } = await loadServiceConfig(path);
  const transports = (config as { transports?: unknown }).transports;
  if (transports === undefined) return {};
  if (transports === null || typeof transports !== 'object') {
    throw new SluiceError(
      'SLUICE_CONFIG_INVALID',
      `${file}: \`transports\` must be an object of named transports`,
    );
  }
  return Object.fromEntries(
    Object.entries(transports).map(([name, t]) => [
      name,
      resolveEnvRefs(t, `transports.${name}`, environment, file) as TransportConfig | string,
    ]),
  );
}
