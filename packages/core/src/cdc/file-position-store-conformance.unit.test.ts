import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPositionStoreConformance } from '@sluice/testing';
import { FilePositionStore } from './file-position-store.js';
import type { PositionStore } from './position-store.js';

let dir: string | undefined;
const opened: PositionStore[] = [];

runPositionStoreConformance('FilePositionStore', {
  async setup() {
    dir = await mkdtemp(join(tmpdir(), 'sluice-pos-conf-'));
  },
  async teardown() {
    for (const s of opened.splice(0)) await s.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  },
  async open() {
    const store = new FilePositionStore(join(dir!, 'nested', 'positions.json'));
    opened.push(store);
    return store;
  },
  sharedByInstances: false, // one process, one instance per file (documented)
});
