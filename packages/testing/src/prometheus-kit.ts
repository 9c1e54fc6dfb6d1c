import { randomUUID } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One sample of an instant query's answer: the series' labels and its value at the evaluation time. */
export interface PrometheusSample {
  /** The series' labels, `__name__` included when the expression keeps it. */
  readonly metric: Readonly<Record<string, string>>;
  /** The value; `NaN` and `±Infinity` come through as such. */
  readonly value: number;
  /** Evaluation time, in seconds since the epoch (Prometheus' own unit). */
  readonly timestamp: number;
}

/** A scrape target as Prometheus' `/api/v1/targets` reports it (the fields tests look at). */
export interface PrometheusTarget {
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  /** Why the last scrape failed; empty when it succeeded. */
  readonly lastError: string;
}

/** A target added by {@link PrometheusKit.addTarget}: its file_sd file, until {@link remove} deletes it. */
export interface AddedTarget {
  readonly job: string;
  /** `host:port` Prometheus scrapes (`/metrics` on it). */
  readonly address: string;
  /** The file_sd JSON file that lists it. */
  readonly file: string;
  /** Deletes the file, so Prometheus drops the target (within about 7 s: see {@link PrometheusKit}). */
  remove(): Promise<void>;
}

/**
 * Tests' hands on a real Prometheus (the one scripts/services starts): it adds scrape targets by writing file_sd
 * files into the directory that Prometheus reads, and asks Prometheus' HTTP API what it scraped. Nothing here is
 * a stand-in: a test passes only if Prometheus itself scraped the metrics.
 *
 * Prometheus passes changed target lists to its scrapers at most every 5 s, so a target is scraped (or dropped)
 * 5 to 7 s after its file appears (or goes); the waits default to 30 s.
 *
 * The kit owns the files it writes (and {@link remove} deletes them all); it does not own Prometheus, its
 * configuration or its stored series (series of a removed target stay queryable until they go stale).
 */
export interface PrometheusKit {
  /** Prometheus' base URL, e.g. `http://127.0.0.1:59090`. */
  readonly url: string;
  /** The directory whose `*.json` files Prometheus reads as file_sd target lists. */
  readonly targetsDir: string;
  /**
   * Lists `address` (`host:port`) as a target with label `job` (plus `labels`) in a file of its own. Resolves
   * once the file is in place (written under another name, then renamed, so Prometheus never reads half of it);
   * {@link waitForTarget} tells when Prometheus has scraped it.
   */
  addTarget(job: string, address: string, labels?: Readonly<Record<string, string>>): Promise<AddedTarget>;
  /** Polls `/api/v1/targets` until a target with label `job` is `up`; throws its last error on timeout. */
  waitForTarget(job: string, timeoutMs?: number): Promise<PrometheusTarget>;
  /**
   * Polls `/api/v1/targets` until a target with label `job` has been scraped once, up or down (a test of a
   * failing target reads its `health` and `lastError`).
   */
  waitForScraped(job: string, timeoutMs?: number): Promise<PrometheusTarget>;
  /** Polls `/api/v1/targets` until Prometheus lists no active target with label `job`. */
  waitForNoTarget(job: string, timeoutMs?: number): Promise<void>;
  /** Evaluates `promql` now (`/api/v1/query`): the samples of a vector, or the one sample of a scalar. */
  query(promql: string): Promise<PrometheusSample[]>;
  /** Repeats {@link query} until `predicate` holds for its answer, which it returns; throws on timeout. */
  waitFor(
    promql: string,
    predicate: (samples: PrometheusSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PrometheusSample[]>;
  /** Deletes every target file this kit wrote. */
  remove(): Promise<void>;
}

/**
 * Prometheus' discovery manager hands new target lists to the scrapers at most every 5 s, whatever the file_sd
 * refresh interval, so a new target is first scraped 5 to 7 s after its file appears.
 */
const defaultTimeoutMs = 30_000;
const pollMs = 200;

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

type QueryData =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix' | 'string'; result: unknown };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A {@link PrometheusKit} on the Prometheus at `prometheusUrl` whose file_sd configuration reads
 * `targetsDir/*.json` (scripts/services exports both: SLUICE_TEST_PROMETHEUS_URL and
 * SLUICE_TEST_PROMETHEUS_TARGETS_DIR).
 */
export function scrapedBy(prometheusUrl: string, targetsDir: string): PrometheusKit {
  const url = prometheusUrl.replace(/\/+$/, '');
  const added = new Set<AddedTarget>();

  async function api<T>(path: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url + path, { signal: AbortSignal.timeout(5_000) });
    } catch (error) {
      throw new Error(`Prometheus at ${url} did not answer ${path}: ${String(error)}`, { cause: error });
    }
    const body = (await response.json().catch(() => undefined)) as ApiAnswer<T> | undefined;
    if (body?.status !== 'success' || body.data === undefined) {
      throw new Error(
        `Prometheus at ${url} answered ${path} with HTTP ${response.status}: ${body?.errorType ?? ''} ${body?.error ?? 'no JSON body'}`,
      );
    }
    return body.data;
  }

  async function targetsOf(job: string): Promise<PrometheusTarget[]> {
    const data = await api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets?state=active');
    return data.activeTargets.filter((t) => t.labels['job'] === job);
  }

  /** Polls the targets of `job` until one meets `predicate`; on timeout, throws what Prometheus last said. */
  async function targetWhere(
    job: string,
    timeoutMs: number,
    predicate: (target: PrometheusTarget) => boolean,
    wanted: string,
  ): Promise<PrometheusTarget> {
    const deadline = Date.now() + timeoutMs;
    let last: PrometheusTarget[] = [];
    for (;;) {
      last = await targetsOf(job);
      const found = last.find(predicate);
      if (found !== undefined) return found;
      if (Date.now() >= deadline) break;
      await sleep(pollMs);
    }
    throw new Error(
      last.length === 0
        ? `Prometheus at ${url} lists no target of job ${job} after ${timeoutMs} ms: does its file_sd read ${targetsDir}/*.json (see ${url}/api/v1/status/config)?`
        : `Prometheus at ${url} has not ${wanted} (job ${job}) after ${timeoutMs} ms: ${last
            .map((t) => `${t.scrapeUrl} is ${t.health}${t.lastError ? ` (${t.lastError})` : ''}`)
            .join('; ')}`,
    );
  }

  async function query(promql: string): Promise<PrometheusSample[]> {
    const data = await api<QueryData>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
    switch (data.resultType) {
      case 'vector':
        return data.result.map((s) => ({
          metric: s.metric,
          value: Number(s.value[1]),
          timestamp: s.value[0],
        }));
      case 'scalar':
        return [{ metric: {}, value: Number(data.result[1]), timestamp: data.result[0] }];
      default:
        throw new Error(`${promql} is a ${data.resultType}: query() reads vectors and scalars only`);
    }
  }

  return {
    url,
    targetsDir,

    async addTarget(job, address, labels = {}) {
      if (!/^[^/\s]+:\d+$/.test(address)) {
        throw new Error(
          `address must be host:port (Prometheus scrapes http://host:port/metrics), got '${address}'`,
        );
      }
      const name = `${job.replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}-${randomUUID()}.json`;
      const file = join(targetsDir, name);
      const partial = `${file}.partial`;
      await writeFile(partial, JSON.stringify([{ targets: [address], labels: { ...labels, job } }]));
      await rename(partial, file);
      const target: AddedTarget = {
        job,
        address,
        file,
        async remove() {
          added.delete(target);
          await rm(file, { force: true });
        },
      };
      added.add(target);
      return target;
    },

    waitForTarget: (job, timeoutMs = defaultTimeoutMs) =>
      targetWhere(job, timeoutMs, (t) => t.health === 'up', 'found it up'),

    waitForScraped: (job, timeoutMs = defaultTimeoutMs) =>
      targetWhere(job, timeoutMs, (t) => t.health !== 'unknown', 'scraped it'),

    async waitForNoTarget(job, timeoutMs = defaultTimeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = await targetsOf(job);
        if (left.length === 0) return;
        if (Date.now() >= deadline) {
          throw new Error(
            `Prometheus at ${url} still scrapes job ${job} after ${timeoutMs} ms: ${left.map((t) => t.scrapeUrl).join(', ')}`,
          );
        }
        await sleep(pollMs);
      }
    },

    query,

    async waitFor(promql, predicate, timeoutMs = defaultTimeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const samples = await query(promql);
        if (predicate(samples)) return samples;
        if (Date.now() >= deadline) {
          throw new Error(
            `Prometheus at ${url}: ${promql} did not meet the condition within ${timeoutMs} ms; last answer: ${JSON.stringify(samples)}`,
          );
        }
        await sleep(pollMs);
      }
    },

    async remove() {
      await Promise.all([...added].map((t) => t.remove()));
    },
  };
}

/**
 * {@link scrapedBy} the Prometheus of scripts/services, from SLUICE_TEST_PROMETHEUS_URL and
 * SLUICE_TEST_PROMETHEUS_TARGETS_DIR; throws, saying how to set them, when they are not set.
 */
export function scrapedByTestPrometheus(): PrometheusKit {
  const url = process.env['SLUICE_TEST_PROMETHEUS_URL'];
  const dir = process.env['SLUICE_TEST_PROMETHEUS_TARGETS_DIR'];
  if (!url || !dir) {
    throw new Error(
      'SLUICE_TEST_PROMETHEUS_URL and SLUICE_TEST_PROMETHEUS_TARGETS_DIR must be set: run `eval "$(bash scripts/services prometheus)"` first (npm test does it)',
    );
  }
  return scrapedBy(url, dir);
}
