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

export class SlowCallTracker {
  private calls: { at: number; slow: boolean }[] = [];
  constructor(private readonly options: SlowCallOptions) {}

  /** Records one finished call; returns true when the slow ratio trips. */
  record(slow: boolean): boolean {
    const now = this.options.now();
    const from = now - this.options.windowMs();
    this.calls.push({ at: now, slow });
    while (this.calls.length > 0 && this.calls[0]!.at < from) this.calls.shift();
    if (this.calls.length > 1000) this.calls.splice(0, this.calls.length - 1000);
    const n = this.calls.length;
    if (n < Math.max(1, this.options.minCalls())) return false;
    const slowCount = this.calls.reduce((k, c) => k + (c.slow ? 1 : 0), 0);
    return slowCount / n >= this.options.ratio();
  }

  reset(): void {
    this.calls = [];
  }
}

/** Expected duration of a synthesis call: a base plus a per-character allowance. */
export function expectedCallMs(textLength: number, baseMs: number, perCharMs: number): number {
  return baseMs + perCharMs * textLength;
}
