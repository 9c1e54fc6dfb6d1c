import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
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

/** Forks a fixture with its stderr appended to the file `logPath`, and resolves once it sent its first message. */
export async function forkReady(
  name: string,
  args: readonly string[],
  logPath: string,
): Promise<ChildProcess> {
  const fd = openSync(logPath, 'a');
  const child = forkFixture(name, args, { stderr: fd });
  closeSync(fd);
  await firstMessage(child);
  return child;
}
