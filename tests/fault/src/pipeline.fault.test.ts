import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertChaosInvariants, runPipelineChaos } from './pipeline-chaos.js';

describe('relay and consumer killed with SIGKILL mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fault-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing, invents nothing, keeps per-key order and applies each event once', {
    timeout: 240_000,
  }, async (t) => {
    assertChaosInvariants(await runPipelineChaos(dir, 25), 25, t);
  });
});
