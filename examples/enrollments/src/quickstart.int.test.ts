import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@sluice/sqlite';

describe("the README's quick start", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-quickstart-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the code the README shows', () => {
    const code = readFileSync(new URL('./quickstart.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const shown = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(shown, 'the README shows no ```ts block');
    // The file's first line says what it is; the rest is the README's snippet, to the character.
    assert.equal(shown, code.slice(code.indexOf('\n') + 1));
  });

  it('appends in a transaction, relays, and the consumer applies the event once', async () => {
    const script = fileURLToPath(new URL('./quickstart.ts', import.meta.url));
    // The child runs in an empty folder: resolve the `--import tsx` loader from here, not from there.
    const execArgv = process.execArgv.map((a) => (a === 'tsx' ? import.meta.resolve('tsx') : a));
    const child = spawn(process.execPath, [...execArgv, script], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output in time: ${out}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('invoiced')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`quick start exited with ${code}: ${out}${err}`)));
    });
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    const billing = openDatabase(join(dir, 'billing.db'));
    const invoices = billing.prepare('SELECT total FROM invoices').pluck().all();
    billing.close();
    assert.deepEqual(invoices, [42]);
    assert.match(out, /^invoiced [0-9a-f-]{36}: 42$/m);
  });
});
