/**
 * One canary's recent pairs, oldest first, as the report and the verdict read them: at most
 * `max` judged pairs (with audio metrics) and at most `max` others (errors, and pairs compared on
 * errors and latency only). Two bounds, not one: under load most mirrors are not judged (the
 * judge's CPU budget), and a single bound would let them push every judged pair out.
 * @module
 */
import type { PairRecord } from './pair-record.ts';

const judged = (p: PairRecord) => p.metrics !== undefined;

export class PairWindow {
  readonly #pairs: PairRecord[];
  #judged: number;

  /** `pairs`: already oldest first and within the bounds (the store's `recentWindow`). */
  constructor(
    private readonly max: () => number,
    pairs: PairRecord[] = [],
  ) {
    this.#pairs = pairs;
    this.#judged = pairs.filter(judged).length;
  }

  push(p: PairRecord): void {
    this.#pairs.push(p);
    const isJudged = judged(p);
    if (isJudged) this.#judged++;
    const count = isJudged ? this.#judged : this.#pairs.length - this.#judged;
    if (count <= this.max()) return;
    // Drop the oldest of the same kind; usually near the front.
    const i = this.#pairs.findIndex((x) => judged(x) === isJudged);
    this.#pairs.splice(i, 1);
    if (isJudged) this.#judged--;
  }

  pairs(): readonly PairRecord[] {
    return this.#pairs;
  }
}
