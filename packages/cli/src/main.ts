import { errorMessage, InvalidOptionError, SluiceError } from '@sluice/core';
import type { Command } from './commands/command.js';
import { helpText, resolveOptions, UsageError } from './options.js';

/**
 * The commands, each loaded only when it runs: a command's module brings its dependencies (the service, change
 * data capture readers, the contract exports), and `sluice <command>` should pay only for its own.
 */
const LOADERS: readonly (readonly [string, () => Promise<Command>])[] = [
  ['demo', async () => (await import('./commands/demo.js')).demoCommand],
  ['migrate', async () => (await import('./commands/migrate.js')).migrateCommand],
  ['relay', async () => (await import('./commands/relay.js')).relayCommand],
  ['status', async () => (await import('./commands/status.js')).statusCommand],
  ['tail', async () => (await import('./commands/tail.js')).tailCommand],
  ['replay', async () => (await import('./commands/replay.js')).replayCommand],
  ['dlq', async () => (await import('./commands/dlq.js')).dlqCommand],
  ['backfill', async () => (await import('./commands/backfill.js')).backfillCommand],
  ['audit', async () => (await import('./commands/audit.js')).auditCommand],
  ['run', async () => (await import('./commands/run.js')).runCommand],
  ['check', async () => (await import('./commands/check.js')).checkCommand],
  ['contracts', async () => (await import('./commands/contracts.js')).contractsCommand],
];

/** Every command, in the order `sluice --help` lists them (loads them all). */
export async function loadCommands(): Promise<readonly Command[]> {
  return Promise.all(LOADERS.map(([, load]) => load()));
}

async function overview(): Promise<string> {
  const commands = await loadCommands();
  return [
    'sluice — move events out of your database onto an event bus without losing, inventing or reordering any',
    '',
    'Usage: sluice <command> [options]      sluice <command> --help',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`),
    '',
    'Options come from flags, then SLUICE_* environment variables, then sluice.config.json, then defaults.',
    '',
  ].join('\n');
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(await overview());
    return name ? 0 : 2;
  }
  const load = LOADERS.find(([n]) => n === name)?.[1];
  if (load === undefined) {
    process.stderr.write(`sluice: unknown command ${JSON.stringify(name)}\n\n${await overview()}`);
    return 2;
  }
  const command = await load();
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
