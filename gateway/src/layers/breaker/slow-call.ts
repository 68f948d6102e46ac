/**
 * Sentinel's slow-call ratio: in a rolling window, when at least `minCalls` calls finished and the
 * share slower than their expected time reaches `ratio`, the node is treated as failing (the
 * breaker opens). Opossum counts only rejections, so slow successes are tracked here.
 * @module
 */
export interface SlowCallOptions {
  ratio: () => number;
  windowMs: () => number;
  minCalls: () => number;
  now: () => number;
}

/** The most calls the window keeps; older ones fall out first. */
const MAX_CALLS = 1000;

export class SlowCallTracker {
  // A ring of the window's calls with a running slow count: recording is O(1) amortised. The
  // array version (push, shift, splice to 1000, reduce over all) cost O(window) per call.
  private readonly at = new Float64Array(MAX_CALLS);
  private readonly slow = new Uint8Array(MAX_CALLS);
  private head = 0;
  private size = 0;
  private slowCount = 0;
  constructor(private readonly options: SlowCallOptions) {}

  /** Records one finished call; returns true when the slow ratio trips. */
  record(slow: boolean): boolean {
    const now = this.options.now();
    const from = now - this.options.windowMs();
    while (this.size > 0 && this.at[this.head]! < from) this.dropOldest();
    if (this.size === MAX_CALLS) this.dropOldest();
    const i = (this.head + this.size) % MAX_CALLS;
    this.at[i] = now;
    this.slow[i] = slow ? 1 : 0;
    this.size += 1;
    if (slow) this.slowCount += 1;
    if (this.size < Math.max(1, this.options.minCalls())) return false;
    return this.slowCount / this.size >= this.options.ratio();
  }

  reset(): void {
    this.head = 0;
    this.size = 0;
    this.slowCount = 0;
  }

  private dropOldest(): void {
    this.slowCount -= this.slow[this.head]!;
    this.head = (this.head + 1) % MAX_CALLS;
    this.size -= 1;
  }
}

/** Expected duration of a synthesis call: a base plus a per-character allowance. */
export function expectedCallMs(textLength: number, baseMs: number, perCharMs: number): number {
  return baseMs + perCharMs * textLength;
}
