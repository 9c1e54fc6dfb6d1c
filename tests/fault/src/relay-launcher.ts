import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSluice } from './sluice-process.js';

/** The CLI as built by `npm run build` (scripts/test builds before fault tests). */
const BUILT_CLI = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));

/**
 * Starts `sluice relay <args>` as a child process and resolves once it reports ready. Runs the built CLI when
 * there is one (it starts in a fraction of the time the TypeScript sources take through tsx, so a fault test
 * kills and restarts it many more times), else the sources. A
 * `--contracts` module given as a TypeScript source file is swapped for its build output.
 */
export function spawnRelay(args: readonly string[]): Promise<ChildProcess> {
  if (!existsSync(BUILT_CLI)) return spawnSluice(['relay', ...args]);
  const built = args.map((a) => {
    // A contracts module given as TypeScript source: the built CLI loads its build output instead.
    const js = a.startsWith('file:') && a.endsWith('.ts') ? a.replace(/\/src\/(.*)\.ts$/, '/dist/$1.js') : a;
    return js !== a && existsSync(fileURLToPath(js)) ? js : a;
  });
  const child = spawn(process.execPath, [BUILT_CLI, 'relay', ...built], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, SLUICE_LOG_LEVEL: process.env['SLUICE_LOG_LEVEL'] ?? 'error' },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`sluice relay exited with ${code} before ready`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', () => {
      child.off('exit', onExit);
      resolve(child);
    });
  });
}
