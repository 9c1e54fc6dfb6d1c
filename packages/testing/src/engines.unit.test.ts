import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import semver from 'semver';

const root = resolve(import.meta.dirname, '../../..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};
const declared = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;

describe('Node versions', () => {
  it('every installed dependency runs on the oldest Node the packages declare, and on this one', () => {
    const oldest = semver.minVersion(declared)?.version;
    assert.ok(oldest, `the root package.json declares no usable engines.node: ${declared}`);
    const refusing: string[] = [];
    let checked = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!path.includes('node_modules/') || range === undefined) continue;
      checked++;
      for (const version of [oldest, process.versions.node]) {
        if (!semver.satisfies(version, range))
          refusing.push(`${path}@${entry.version} wants node ${range}, not ${version}`);
      }
    }
    assert.ok(checked > 20, `only ${checked} dependencies declare engines: is package-lock.json read?`);
    assert.deepEqual(refusing, []);
  });

  it("every workspace package declares the root's Node range", () => {
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || path.includes('node_modules/')) continue;
      assert.deepEqual(
        entry.engines,
        { node: declared },
        `${path} declares ${JSON.stringify(entry.engines)}`,
      );
    }
  });
});
