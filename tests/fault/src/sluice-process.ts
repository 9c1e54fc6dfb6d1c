import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export { killHard } from '@sluice/testing';

/**
 * The `sluice` entry point beside the `@sluice/cli` this process resolves (its sources under the
 * `sluice-source` condition, else the build), to run commands as child processes.
 */
export function cliEntry(): string {
  const index = fileURLToPath(import.meta.resolve('@sluice/cli'));
  return join(dirname(index), index.endsWith('.ts') ? 'bin.ts' : 'bin.js');
}

/**
 * Starts `sluice <args>` as a child process with this process's Node flags and environment (plus `env`);
 * resolves once it reports ready.
 */
export function spawnSluice(
  args: readonly string[],
  options: { inheritStderr?: boolean; env?: Readonly<Record<string, string>> } = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, cliEntry(), ...args], {
    stdio: ['ignore', 'ignore', options.inheritStderr ? 'inherit' : 'ignore', 'ipc'],
    env: { ...process.env, SLUICE_LOG_LEVEL: process.env['SLUICE_LOG_LEVEL'] ?? 'warn', ...options.env },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`sluice ${args[0]} exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', () => {
      child.off('exit', onExit);
      resolve(child);
    });
  });
}
