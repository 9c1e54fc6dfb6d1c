// What the repository's own benchmarks share with the fault runs: running the `sluice` command as a child.
export { cliEntry, killHard, spawnSluice } from './sluice-process.js';
