import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertChaosInvariants, runPipelineChaos } from './pipeline-chaos.js';

/** `npm run soak`: the chaos run of the fault test, for SLUICE_SOAK_SECONDS (default 600 s). */
const seconds = Number(process.env['SLUICE_SOAK_SECONDS'] ?? 600);

describe(`soak: relay and consumer killed with SIGKILL for ${seconds} s`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-soak-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing, invents nothing, keeps per-key order and applies each event once', {
    timeout: (seconds + 300) * 1000,
  }, async (t) => {
    assertChaosInvariants(await runPipelineChaos(dir, seconds), seconds, t);
  });
});
