/**
 * Exponentially weighted moving average with a time-independent weight: cheap, and the load
 * reports only need "roughly the last few dozen requests".
 * @module
 */
export class Ewma {
  #value: number | undefined;
  readonly #alpha: number;

  constructor(alpha = 0.2) {
    this.#alpha = alpha;
  }

  observe(sample: number): void {
    this.#value = this.#value === undefined ? sample : this.#value + this.#alpha * (sample - this.#value);
  }

  /** The current average, or `fallback` before the first sample. */
  value(fallback = 0): number {
    return this.#value ?? fallback;
  }
}
