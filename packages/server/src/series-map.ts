import type { LabelValues } from 'prom-client';

/**
 * The labelled series of one metric, created once per distinct set of label values: the lookup shared by
 * {@link SeriesCounter} and {@link SeriesHistogram}. Labels are kept in the order their names were declared (as
 * prom-client writes them); absent ones are left out.
 */
export class SeriesMap<L extends string, S> {
  readonly #series = new Map<string, S>();

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: (labels: Readonly<Record<string, string>>) => S,
  ) {}

  get(labels: LabelValues<L>): S {
    const names = this.labelNames.filter((n) => labels[n] !== undefined);
    const key = names.map((n) => String(labels[n])).join('\u0000');
    let s = this.#series.get(key);
    if (s === undefined) {
      const fixed: Record<string, string> = {};
      for (const n of names) fixed[n] = String(labels[n]);
      s = this.create(fixed);
      this.#series.set(key, s);
    }
    return s;
  }

  values(): IterableIterator<S> {
    return this.#series.values();
  }

  clear(): void {
    this.#series.clear();
  }
}
