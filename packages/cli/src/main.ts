import { errorMessage, InvalidOptionError, SluiceError } from '@sluice/core';
import { auditCommand } from './commands/audit.js';
import { backfillCommand } from './commands/backfill.js';
import { checkCommand } from './commands/check.js';
import type { Command } from './commands/command.js';
import { contractsCommand } from './commands/contracts.js';
import { demoCommand } from './commands/demo.js';
import { dlqCommand } from './commands/dlq.js';
import { migrateCommand } from './commands/migrate.js';
import { relayCommand } from './commands/relay.js';
import { replayCommand } from './commands/replay.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { tailCommand } from './commands/tail.js';
import { helpText, resolveOptions, UsageError } from './options.js';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  migrateCommand,
  relayCommand,
  statusCommand,
  tailCommand,
  replayCommand,
  dlqCommand,
  backfillCommand,
  auditCommand,
  runCommand,
  checkCommand,
  contractsCommand,
];

function overview(): string {
  return [
    'sluice — move events out of your database onto an event bus without losing, inventing or reordering any',
    '',
    'Usage: sluice <command> [options]      sluice <command> --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`),
    '',
    'Options come from flags, then SLUICE_* environment variables, then sluice.config.json, then defaults.',
    '',
  ].join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(overview());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    process.stderr.write(`sluice: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  try {
    const { options, positionals } = resolveOptions(command.spec, rest);
    if (options['help']) {
      process.stdout.write(helpText(command.spec));
      return 0;
    }
    return await command.run(options, positionals);
  } catch (error) {
    // A usage problem exits 2 in every command: a bad flag, and an option a component refused.
    if (error instanceof UsageError || error instanceof InvalidOptionError) {
      process.stderr.write(`sluice ${name}: ${error.message}\n`);
      return 2;
    }
    const code = error instanceof SluiceError ? error.code : (error as { code?: unknown } | null)?.code;
    process.stderr.write(
      `sluice ${name}: ${errorMessage(error)}${typeof code === 'string' ? ` [${code}]` : ''}\n`,
    );
    return 1;
  }
}
