import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let cached: string | undefined;

/**
 * The PostgreSQL server the suite runs against: `SLUICE_TEST_PG_URL` when set, otherwise the one
 * `scripts/services postgres` starts (or reuses) on 127.0.0.1, whose `export` lines are parsed into this
 * process's environment (so child processes see them too).
 */
export function postgresUrl(): string {
  cached ??= process.env['SLUICE_TEST_PG_URL'] || startServer();
  return cached;
}

function startServer(): string {
  const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'services');
  const out = execFileSync('bash', [script, 'postgres'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  const url = process.env['SLUICE_TEST_PG_URL'];
  if (!url) throw new Error(`scripts/services postgres printed no SLUICE_TEST_PG_URL (got: ${out.trim()})`);
  return url;
}
