import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built `sluice` entry point (tests run `sluice run` as users do: node, no TypeScript loader). */
export function builtCli(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', 'cli', 'dist', 'bin.js');
}

/** A `sluice run` child process: its URL once ready, its output so far, how it ended. */
export interface RunningSluice {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  readonly exited: Promise<number | null>;
}

/**
 * Starts `sluice run <args>` (with `env` added) and resolves once its HTTP server listens (it reports its URL over
 * IPC); rejects with its output if it exits first.
 */
export function startSluiceRun(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<RunningSluice> {
  const child = spawn(process.execPath, [builtCli(), 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    void exited.then((code) =>
      reject(new Error(`sluice run exited with ${code} before it was ready:\n${out}`)),
    );
    child.once('message', (m: { url?: string }) => {
      resolve({ child, url: m.url!, output: () => out, exited });
    });
  });
}

/** Runs `sluice <args>` to the end; resolves its exit code and output. */
export function runSluice(args: readonly string[], env: Readonly<Record<string, string>>) {
  const child = spawn(process.execPath, [builtCli(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output: out })),
  );
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET a path of the service: status code and body text (status 0 when nothing answers). */
export async function get(url: string, path: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}
