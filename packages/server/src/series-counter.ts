import {
  Counter,
  type CounterConfiguration,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { SeriesMap } from './series-map.js';

/** One labelled series of a {@link SeriesCounter}: `inc` is a single addition on an event's path. */
export class CounterSeries {
  value = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  inc(by = 1): void {
    this.value += by;
  }
}

/**
 * A Prometheus counter for a hot path: each labelled series is created once ({@link series}) and incremented
 * directly, where prom-client's `inc(labels)` validates and hashes the labels on every call. Exposed in the
 * same text format as prom-client's own counters; registered like them (`registers`).
 */
export class SeriesCounter<L extends string> extends Counter<L> {
  readonly #series: SeriesMap<L, CounterSeries>;
  readonly #name: string;
  readonly #help: string;

  constructor(config: CounterConfiguration<L>) {
    super(config);
    this.#name = config.name;
    this.#help = config.help;
    this.#series = new SeriesMap(config.labelNames ?? [], (labels) => new CounterSeries(labels));
  }

  /** The series of `labels` (created at zero the first time, so it is exposed from then on). */
  series(labels: LabelValues<L>): CounterSeries {
    return this.#series.get(labels);
  }

  override async get(): Promise<MetricObjectWithValues<MetricValue<L>>> {
    return this.getForPromString();
  }

  /** What prom-client's registry reads when it writes the text format (it prefers this to `get`). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValue<L>>> {
    const values = [...this.#series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
    // The registry reads `type` as the text format's type word (prom-client's own metrics hold the string).
    return {
      name: this.#name,
      help: this.#help,
      type: 'counter',
      values,
      aggregator: 'sum',
    } as unknown as MetricObjectWithValues<MetricValue<L>>;
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    if (!(#series in this)) return;
    for (const s of this.#series.values()) s.value = 0;
  }
}
