import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '../../..');

/** Every bare module a source file loads, statically, following its relative imports (type-only ones excluded). */
function loadedModules(entry: string): { files: number; modules: Map<string, string> } {
  const modules = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)) {
      if (m[1]) continue;
      const spec = m[2]!;
      if (spec.startsWith('.')) {
        const target = join(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) queue.push(target);
      } else if (!spec.startsWith('node:')) {
        modules.set(spec, file.slice(root.length + 1));
      }
    }
  }
  return { files: seen.size, modules };
}

const cases = [
  // The tracing API (a no-op without an SDK; a peer dependency so the application's one copy is used).
  { entry: 'packages/core/src/index.ts', allowed: ['@standard-schema/spec', '@opentelemetry/api'] },
  { entry: 'packages/postgres/src/index.ts', allowed: ['@sluice/core', '@sluice/core/adapter'] },
  { entry: 'packages/mysql/src/index.ts', allowed: ['@sluice/core', '@sluice/core/adapter'] },
];

describe('what importing an entry point loads', () => {
  for (const { entry, allowed } of cases) {
    it(`${entry} loads only ${allowed.join(', ')} (no driver, no replication client)`, () => {
      const { files, modules } = loadedModules(join(root, entry));
      assert.ok(files > 5, `followed only ${files} files from ${entry}`);
      const extra = [...modules].filter(([m]) => !allowed.includes(m)).map(([m, by]) => `${m} (by ${by})`);
      assert.deepEqual(extra, []);
    });
  }

  it('the CDC entry points do load their replication clients (so the check above can tell)', () => {
    assert.ok(
      loadedModules(join(root, 'packages/postgres/src/cdc/index.ts')).modules.has('pg-logical-replication'),
    );
    assert.ok(loadedModules(join(root, 'packages/mysql/src/cdc/index.ts')).modules.has('@vlasky/zongji'));
  });
});
