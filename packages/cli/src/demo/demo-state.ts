import type { DemoStoreInfo } from './demo-store.js';

/** What the demo's producer and consumer observed, checked against the consumer's tables at the end. */
export interface DemoCounters {
  committed: Map<string, string>;
  rolledBack: Set<string>;
  deadLettered: Set<string>;
  duplicates: number;
  retries: number;
  relayKills: number;
}

export interface DemoSummary {
  readonly committed: number;
  readonly rolledBack: number;
  readonly delivered: number;
  readonly duplicatesSuppressed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly phantom: number;
  readonly appliedMoreThanOnce: number;
  readonly orderViolations: number;
  readonly relayKills: number;
  /** Events redelivered by replaying the topic from the start and skipped by the inbox. */
  readonly replaySuppressed: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly seconds: number;
  readonly ok: boolean;
}

/** The plain-text summary the demo prints. */
export function formatSummary(
  s: DemoSummary,
  dir: string,
  transport: string,
  store: DemoStoreInfo,
  busArgs: readonly string[] = ['--log', `${dir}/bus.db`],
): string {
  const bus = busArgs.join(' ');
  const row = (label: string, value: string | number) => `  ${label.padEnd(50)} ${value}`;
  const ms = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(1)} ms`);
  const database = store.kind === 'postgres' ? 'PostgreSQL' : 'SQLite';
  return [
    '',
    `Sluice demo: ${database} outbox -> relay -> ${transport} -> consumer with inbox (${s.seconds.toFixed(1)} s)`,
    row('committed', s.committed),
    row('rolled back (must never be delivered)', s.rolledBack),
    row('delivered and applied exactly once', s.delivered),
    row('sent twice by a killed relay, skipped by the inbox', s.duplicatesSuppressed),
    row('handler failures retried', s.retried),
    row('dead-lettered (handler kept failing)', s.deadLettered),
    row('relay killed with SIGKILL and restarted', s.relayKills),
    row('replayed from the start, skipped by the inbox', s.replaySuppressed),
    row('lost', s.lost),
    row('phantom (rolled back or invented, yet delivered)', s.phantom),
    row('applied more than once', s.appliedMoreThanOnce),
    row('order violations (per key)', s.orderViolations),
    row('end-to-end latency p50 / p99 (incl. fail-overs)', `${ms(s.latencyP50Ms)} / ${ms(s.latencyP99Ms)}`),
    '',
    s.ok ? 'All invariants held.' : 'INVARIANT VIOLATED: see the counts above.',
    store.kind !== 'postgres'
      ? ''
      : store.kept
        ? `Tables are in PostgreSQL schema ${store.schema} of ${store.database}: try \`npx sluice status --db <url> --schema ${store.schema}\`, then DROP SCHEMA "${store.schema}" CASCADE`
        : `PostgreSQL schema ${store.schema} of ${store.database} was dropped (--keep keeps it).`,
    `Files are in ${dir}: try \`npx sluice tail enrollments ${bus} --no-follow\``,
    s.deadLettered > 0 ? `and \`npx sluice dlq list --group enrollment-view ${bus}\`` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}
