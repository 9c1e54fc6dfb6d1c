import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Forks a TypeScript fixture of this folder with this process's Node flags (tsx, source conditions). Its
 * stderr goes to this process's, or to the file descriptor `stderr` (e.g. a log file to show on failure).
 */
export function forkFixture(
  name: string,
  args: readonly string[],
  options: { stderr?: number } = {},
): ChildProcess {
  const file = fileURLToPath(
    new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
  );
  return fork(file, [...args], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'ignore', options.stderr ?? 'inherit', 'ipc'],
  });
}

/** Resolves with the child's first IPC message; rejects if it exits first. */
export function firstMessage<T>(child: ChildProcess, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child ${child.pid} sent nothing in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`child ${child.pid} exited (${code ?? signal}) before it was ready`));
    };
    child.once('exit', onExit);
    child.once('message', (m) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}
