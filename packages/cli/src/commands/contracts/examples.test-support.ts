import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../main.js';

/** The repository's root, for the examples' contracts and configs. */
export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));

/** The two examples: their contracts module and service config, by absolute path. */
export const EXAMPLES = {
  enrollments: {
    contracts: join(REPO, 'examples/enrollments/src/contracts.ts'),
    config: join(REPO, 'examples/enrollments/src/sluice.config.ts'),
  },
  'legacy-courses': {
    contracts: join(REPO, 'examples/legacy-courses/src/contracts.ts'),
    config: join(REPO, 'examples/legacy-courses/src/sluice.config.ts'),
  },
} as const;

/** A fresh temporary directory for one test's output. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
}

/** Runs `sluice <args>` in this process (the sources, through tsx) and returns its exit code. */
export function sluiceInProcess(args: readonly string[]): Promise<number> {
  return main(args);
}
