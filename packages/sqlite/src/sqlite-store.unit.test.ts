import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreConformance } from '@sluice/testing';

let dir: string;
let path: string;

runStoreConformance('SQLite file', {
  async setup() {
    dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    path = join(dir, 'app.db');
  },
  async teardown() {
    rmSync(dir, { recursive: true, force: true });
  },
  config: () => path,
  created: () => existsSync(path),
});

runStoreConformance('SQLite file (file: URL)', {
  async setup() {
    dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    path = join(dir, 'app.db');
  },
  async teardown() {
    rmSync(dir, { recursive: true, force: true });
  },
  config: () => `file:${path}`,
  created: () => existsSync(path),
});
