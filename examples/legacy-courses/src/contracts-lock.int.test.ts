import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The example's committed contracts.lock.json matches its contracts: `sluice contracts check` (the built CLI, as
// CI runs it) exits 0. A failure here means a locked version changed: add a version instead, or run
// `sluice contracts lock` for a new one and commit the lock.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** `sluice contracts check` of this example against its lock, and its shared keys against `other`'s lock. */
function check(other: string) {
  return spawnSync(
    process.execPath,
    [
      here('../../../packages/cli/dist/bin.js'),
      'contracts',
      'check',
      '--contracts',
      here('./contracts.ts'),
      '--lock',
      here('../contracts.lock.json'),
      // Both services carry CourseId, which must mean the same in both.
      '--with',
      other,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

describe('contracts.lock.json', () => {
  it('sluice contracts check passes on the committed lock', () => {
    const run = check(here('../../enrollments/contracts.lock.json'));
    assert.equal(run.status, 0, `sluice contracts check: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /3 contract versions match/);
    assert.match(run.stderr, /shared keys agree with .*enrollments\/contracts\.lock\.json/);
  });

  it('refuses an enrollments lock whose CourseId differs (the cross-service check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-courseid-'));
    try {
      const other = JSON.parse(readFileSync(here('../../enrollments/contracts.lock.json'), 'utf8')) as {
        contracts: { schema: { properties: Record<string, { pattern?: string }> } }[];
      };
      for (const c of other.contracts) {
        const field = c.schema.properties['courseId'];
        if (field?.pattern !== undefined) field.pattern = '^COURSE-\\d+$';
      }
      const changed = join(dir, 'enrollments.lock.json');
      writeFileSync(changed, JSON.stringify(other));
      const run = check(changed);
      assert.equal(run.status, 1, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /error key courseId: .*enrollment\.created v1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
