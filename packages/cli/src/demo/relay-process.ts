import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `sluice` entry point of this installation (source or built), to run commands as child processes. */
export function cliEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(self.endsWith('.ts') ? '../bin.ts' : '../bin.js', import.meta.url));
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

/** SIGKILLs a child and waits until it is gone. */
export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
