/**
 * When the incrementing mode first saw each id become visible, as the database's clock told it: a list of
 * (highest id visible, time), appended as the highest visible id grows. A missing id `x` below a visible one is
 * a gap since the first observation whose highest id was above `x`.
 */
export class GapObservations {
  #seen: { readonly id: number; readonly at: number }[] = [];

  /** At `at`, the highest id visible was `id`. */
  observe(id: number, at: number): void {
    const last = this.#seen.at(-1);
    if (last === undefined || id > last.id) this.#seen.push({ id, at });
  }

  /**
   * The time `id` was first seen visible (so every missing id below it was a gap since then); undefined if it
   * never was.
   */
  firstSeen(id: number): number | undefined {
    return this.#seen.find((o) => o.id >= id)?.at;
  }

  /** Forgets what no later question needs: ids at or below `id` were handed over or passed. */
  forgetUpTo(id: number): void {
    const keep = this.#seen.findIndex((o) => o.id > id);
    this.#seen = keep < 0 ? [] : this.#seen.slice(keep);
  }
}
