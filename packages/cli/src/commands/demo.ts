import { JSON_OPTION } from '../context.js';
import { formatSummary } from '../demo/demo-state.js';
import { runDemo } from '../demo/run-demo.js';
import type { Command } from './command.js';

export const demoCommand: Command = {
  spec: {
    name: 'demo',
    summary: 'run the enrollments example end to end on the embedded default and check every guarantee',
    usage: 'sluice demo [--events N] [--duration SECONDS] [--dir DIR] [--json]',
    options: [
      {
        name: 'events',
        type: 'number',
        description: 'business transactions to run',
        default: 3000,
        env: '-',
      },
      {
        name: 'duration',
        type: 'number',
        description: 'seconds over which to spread them',
        default: 6,
        env: '-',
      },
      {
        name: 'rollback-rate',
        type: 'number',
        description: 'share of transactions rolled back on purpose',
        default: 0.1,
        env: '-',
      },
      {
        name: 'fail-rate',
        type: 'number',
        description: 'share of events whose handler fails once',
        default: 0.05,
        env: '-',
      },
      {
        name: 'relay-kills',
        type: 'number',
        description: 'times the active relay is killed with SIGKILL',
        default: 2,
        env: '-',
      },
      {
        name: 'dir',
        type: 'string',
        description: 'where to keep the databases (default: a new temp dir)',
        env: '-',
      },
      JSON_OPTION,
    ],
    examples: ['npx sluice demo', 'npx sluice demo --events 20000 --duration 20'],
  },
  async run(options) {
    const tty = process.stderr.isTTY === true;
    let lastPrinted = 0;
    const { summary, dir } = await runDemo({
      events: options['events'] as number,
      durationS: options['duration'] as number,
      rollbackRate: options['rollback-rate'] as number,
      failRate: options['fail-rate'] as number,
      relayKills: options['relay-kills'] as number,
      ...(options['dir'] ? { dir: options['dir'] as string } : {}),
      progress: (line, final) => {
        if (tty) process.stderr.write(`\r\u001b[2K${line}${final ? '\n' : ''}`);
        else if (final || Date.now() - lastPrinted > 2000) {
          lastPrinted = Date.now();
          process.stderr.write(`${line}\n`);
        }
      },
    });
    if (options['json']) console.log(JSON.stringify({ ...summary, dir }));
    else console.log(formatSummary(summary, dir, 'embedded log'));
    return summary.ok ? 0 : 1;
  },
};
