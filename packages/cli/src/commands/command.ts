import type { CommandSpec, Resolved } from '../options.js';

/** A `sluice` sub-command: its spec (for parsing and `--help`) and what it does. Returns the exit code. */
export interface Command {
  readonly spec: CommandSpec;
  run(options: Resolved, positionals: string[]): Promise<number>;
}
