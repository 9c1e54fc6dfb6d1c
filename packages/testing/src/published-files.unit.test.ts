import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');
const published = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => pkg.private !== true);

describe('published packages', () => {
  it('ship their code and no test files nor test support', () => {
    assert.ok(published.length >= 8, `found ${published.length} published packages`);
    for (const { dir, pkg } of published) {
      const [report] = JSON.parse(
        execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
          cwd: join(root, 'packages', dir),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }),
      ) as [{ files: { path: string }[] }];
      const files = report.files.map((f) => f.path);
      assert.ok(
        files.includes('package.json') && files.some((f) => f.startsWith('src/')),
        `${pkg.name}: ${files}`,
      );
      const tests = files.filter((f) => /\.test\.|test-support/.test(f));
      assert.deepEqual(tests, [], `${pkg.name} would publish test files`);
    }
  });
});
