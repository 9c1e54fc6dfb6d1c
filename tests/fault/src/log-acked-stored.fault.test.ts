import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogTransport } from '@sluice/sqlite';
import {
  type AckedRecord,
  ackedStoredProblems,
  compareAckedStored,
  describeRun,
  type PublishRun,
  readAll,
} from '@sluice/testing';
import { forkFixture } from './child.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Message =
  | { publishing: [string, string][] }
  | { acked: [string, number, string][] }
  | { ready: true }
  | { done: true; failedPublishes: number; errors: string[] };

/** Forks a publisher process and records what it reports into `run`. */
function publisherProcess(run: PublishRun, path: string, tag: string, firstPublisher: number): ChildProcess {
  const child = forkFixture('log-publisher-process', [path, run.topic, tag, String(firstPublisher)]);
  child.on('message', (m: Message) => {
    if ('publishing' in m) {
      for (const [key, value] of m.publishing) {
        const v = JSON.parse(value) as { id: string; p: number; seq: number };
        run.published.set(v.id, { publisher: v.p, key, seq: v.seq });
      }
    } else if ('acked' in m) {
      for (const [value, partition, offset] of m.acked) {
        const v = JSON.parse(value) as { id: string };
        const meta = run.published.get(v.id)!;
        run.acks.push({ id: v.id, ...meta, partition, offset } satisfies AckedRecord);
      }
    } else if ('done' in m) {
      run.failedPublishes += m.failedPublishes;
      run.errors.push(...m.errors);
    }
  });
  return child;
}

/** Waits until `done()` holds, or `timeoutMs` (the assertions after it then say what did not happen). */
async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(20);
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/**
 * The embedded log's "acknowledged means stored" across a crash: the process holding the log file is the
 * broker, so a publisher process (4 publishers at full rate on a topic it creates the moment it starts) is
 * SIGKILLed mid-stream and a second one carries on over the same file, as a restarted relay would. Every
 * record is reported before publish() and every ack after it; afterwards every acknowledged id is at its
 * acknowledged position, nothing is stored that was never handed to publish(), and each publisher's records
 * of a key are in publish order.
 */
describe('embedded log: a publishing process SIGKILLed mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-acked-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('acknowledged means stored: a fresh topic, 4 publishers at full rate, the process killed and started again', {
    timeout: 120_000,
  }, async (t) => {
    const path = join(dir, 'log.db');
    const tag = `log-kill-${Date.now().toString(36)}`;
    const run: PublishRun = {
      topic: 'fresh',
      published: new Map(),
      acks: [],
      failedPublishes: 0,
      errors: [],
      elapsedMs: 0,
    };
    const started = performance.now();
    // Each process is timed from its first ack: starting one through tsx takes seconds on a loaded machine.
    const first = publisherProcess(run, path, `${tag}-a`, 0);
    const firstExit = exited(first);
    await until(() => run.acks.length > 0, 60_000);
    await sleep(1000 + Math.floor(Math.random() * 500));
    first.kill('SIGKILL');
    await firstExit;
    const ackedByFirst = run.acks.length;
    const second = publisherProcess(run, path, `${tag}-b`, 4);
    const secondExit = exited(second);
    await until(() => run.acks.length > ackedByFirst, 60_000);
    await sleep(1000);
    second.kill('SIGTERM');
    await secondExit;
    run.elapsedMs = performance.now() - started;
    assert.equal(second.exitCode, 0, 'the second publisher process stopped cleanly');

    const reader = createLogTransport({ path });
    const stored = await readAll(reader, run.topic).finally(() => reader.close());
    const verdict = compareAckedStored(run, stored);
    const summary = `${describeRun(run, verdict)}; ${ackedByFirst} acknowledged before the SIGKILL`;
    t.diagnostic(summary);
    assert.ok(ackedByFirst > 0, 'the first process published before it was killed');
    assert.ok(run.acks.length > ackedByFirst, 'the second process published after the kill');
    const problems = ackedStoredProblems(run, verdict, true);
    assert.deepEqual(problems, [], `${problems.join('\n')}\n[${summary}]`);
  });
});
