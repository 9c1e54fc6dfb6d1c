import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The value of `variable` (e.g. `SLUICE_TEST_NATS_URL`): from the environment when set, otherwise from the
 * `export` lines of `scripts/services <service>`, which starts (or reuses) that server on 127.0.0.1. The
 * exports are copied into this process's environment, so child processes see them too.
 */
export function serviceUrl(service: string, variable: string): string {
  const known = process.env[variable];
  if (known) return known;
  const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'services');
  const out = execFileSync('bash', [script, service], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  const value = process.env[variable];
  if (!value) throw new Error(`scripts/services ${service} printed no ${variable} (got: ${out.trim()})`);
  return value;
}
