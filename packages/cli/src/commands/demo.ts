import { isPostgresUrl, JSON_OPTION } from '../context.js';
import { formatSummary } from '../demo/demo-state.js';
import { type DemoOptions, runDemo } from '../demo/run-demo.js';
import { NAMESPACE_OPTION, TRANSPORT_OPTION, transportConfig } from '../open-transport.js';
import { type Resolved, UsageError } from '../options.js';
import type { Command } from './command.js';

export const demoCommand: Command = {
  spec: {
    name: 'demo',
    summary:
      'run the enrollments example end to end and check every guarantee: store SQLite (default) or PostgreSQL, bus the embedded log (default), NATS, Redis or Kafka',
    usage:
      'sluice demo [--events N] [--duration SECONDS] [--dir DIR] [--store sqlite|postgres --db postgres://URL [--keep]] [--transport embedded|nats://…|redis://…|kafka://… [--namespace NAME]] [--json]',
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
        description:
          'where to keep the bus (and the SQLite databases); kept after the run (default: a new temp dir)',
        env: '-',
      },
      {
        name: 'store',
        type: 'string',
        description:
          "where the service's tables and outbox and the consumer's tables and inbox live: sqlite (files in --dir) or postgres (a new schema sluice_demo_<random> in --db, dropped at the end unless --keep)",
        default: 'sqlite',
        env: '-',
      },
      {
        name: 'db',
        type: 'string',
        description:
          'with --store postgres: the database, a postgres:// URL (the relays get it from SLUICE_DB)',
      },
      {
        name: 'keep',
        type: 'boolean',
        description:
          'with --store postgres: keep the schema after the run, to look at it (`sluice status --db URL --schema NAME`)',
        default: false,
        env: '-',
      },
      {
        ...TRANSPORT_OPTION,
        description:
          'the bus: `embedded` (a log file in --dir), or a broker URL: nats://HOST:PORT, redis://HOST:PORT or kafka://HOST:PORT',
        env: '-',
      },
      {
        ...NAMESPACE_OPTION,
        description:
          "with a broker --transport: the prefix of the run's streams, topics and keys (default sluice-demo-<random>, so runs never see each other's events)",
        env: '-',
      },
      JSON_OPTION,
    ],
    examples: [
      'npx sluice demo',
      'npx sluice demo --events 20000 --duration 20',
      '# the servers of this repository (bash scripts/services postgres nats redis kafka) listen on these ports:',
      'npx sluice demo --store postgres --db postgres://sluice:sluice@127.0.0.1:55432/sluice',
      'npx sluice demo --transport nats://127.0.0.1:54222',
      'npx sluice demo --transport redis://127.0.0.1:56379',
      'npx sluice demo --store postgres --db postgres://sluice:sluice@127.0.0.1:55432/sluice --transport kafka://127.0.0.1:59092',
    ],
  },
  async run(options) {
    const store = demoStore(options);
    const tty = process.stderr.isTTY === true;
    let lastPrinted = 0;
    const result = await runDemo({
      events: options['events'] as number,
      durationS: options['duration'] as number,
      rollbackRate: options['rollback-rate'] as number,
      failRate: options['fail-rate'] as number,
      relayKills: options['relay-kills'] as number,
      ...(options['dir'] ? { dir: options['dir'] as string } : {}),
      store,
      ...demoTransport(options),
      progress: (line, final) => {
        if (tty) process.stderr.write(`\r\u001b[2K${line}${final ? '\n' : ''}`);
        else if (final || Date.now() - lastPrinted > 2000) {
          lastPrinted = Date.now();
          process.stderr.write(`${line}\n`);
        }
      },
    });
    const { summary, dir } = result;
    if (options['json'])
      console.log(JSON.stringify({ ...summary, dir, store: result.store, bus: result.bus }));
    else console.log(formatSummary(summary, dir, result.bus, result.store, result.busArgs));
    return summary.ok ? 0 : 1;
  },
};

/** `--store` and, for PostgreSQL, `--db` and `--keep`, checked. */
function demoStore(options: Resolved): NonNullable<DemoOptions['store']> {
  const store = options['store'];
  if (store === 'sqlite') return { kind: 'sqlite' };
  if (store !== 'postgres')
    throw new UsageError(`--store must be sqlite or postgres, got ${JSON.stringify(store)}`);
  const url = options['db'];
  if (typeof url !== 'string' || url === '') {
    throw new UsageError(
      '--store postgres needs --db postgres://user:password@host:port/database (or SLUICE_DB)',
    );
  }
  if (!isPostgresUrl(url)) {
    throw new UsageError(
      `--store postgres needs --db to be a postgres:// URL, got ${JSON.stringify(url)} (from --db, SLUICE_DB or the config file)`,
    );
  }
  return { kind: 'postgres', url, keep: options['keep'] === true };
}

/** `--transport` (and `--namespace`) as the demo's bus: nothing for the embedded log. */
function demoTransport(options: Resolved): Pick<DemoOptions, 'transport'> {
  const config = transportConfig({ ...options, log: 'unused' });
  if (config.kind === 'embedded') return {};
  return {
    transport: {
      kind: config.kind,
      url: config.url,
      ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
    },
  };
}
