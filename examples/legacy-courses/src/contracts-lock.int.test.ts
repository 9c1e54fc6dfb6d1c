import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The example's committed contracts.lock.json matches its contracts: `sluice contracts check` (the built CLI, as
// CI runs it) exits 0. A failure here means a locked version changed: add a version instead, or run
// `sluice contracts lock` for a new one and commit the lock.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('contracts.lock.json', () => {
  it('sluice contracts check passes on the committed lock', () => {
    const run = spawnSync(
      process.execPath,
      [
        here('../../../packages/cli/dist/bin.js'),
        'contracts',
        'check',
        '--contracts',
        here('./contracts.ts'),
        '--lock',
        here('../contracts.lock.json'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(run.status, 0, `sluice contracts check: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /3 contract versions match/);
  });
});
