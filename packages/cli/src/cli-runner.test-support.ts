import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The `sluice` command as a user runs it, for the CLI's tests: a child process on the built CLI (`dist/bin.js`,
// plain Node: what `npx sluice` runs). Starting it through tsx from the sources costs most of a second of CPU
// per command, which made this suite the slowest of `npm test`. `scripts/test` builds first; run
// `npx tsc -b tsconfig.build.json` before running one of these files by hand.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** The folder the command runs in: the suite's own empty temp folder, never the repository. */
  readonly cwd: string;
  /** Added to the environment, from which every inherited `SLUICE_*` variable is removed. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SLUICE_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  }
  return { ...env, ...extra };
}

export function start(args: readonly string[], o: RunOptions) {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: o.cwd,
    env: childEnv(o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `sluice <args>` to completion; kills it (and fails) after `timeoutMs`. */
export function sluice(args: readonly string[], o: RunOptions): Promise<Run> {
  const child = start(args, o);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timeoutMs = o.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Asserts the exit code, showing the output when it differs. */
export function assertExit(run: Run, code: number, what: string): void {
  assert.equal(
    run.code,
    code,
    `${what}: exit ${run.code} (${run.signal})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
  );
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
