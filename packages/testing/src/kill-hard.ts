import type { ChildProcess } from 'node:child_process';

/** SIGKILLs a child process (a crash: no clean-up runs in it) and resolves once it is gone. */
export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
