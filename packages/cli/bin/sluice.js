#!/usr/bin/env node
// The `sluice` command. It runs the compiled CLI; `npm ci` (or `npm run build`) compiles it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'sluice: the CLI is not built yet; run `npm run build` in the repository (npm ci does it too)\n',
  );
  process.exit(1);
}
await import(entry.href);
