/**
 * Envoy's retry budget: retries in progress ≤ `budget_percent` of the requests in progress,
 * but at least `min_retry_concurrency`, so retries cannot amplify an overload into a collapse.
 * A retry that finds no room fails at once (it is not queued).
 * @module
 */
export interface RetryBudgetOptions {
  budgetPercent: () => number;
  minRetryConcurrency: () => number;
  /** Requests in progress at the gateway. */
  activeRequests: () => number;
}

export class RetryBudget {
  private active = 0;
  constructor(private readonly options: RetryBudgetOptions) {}

  /** Room for retries right now. */
  limit(): number {
    const o = this.options;
    return Math.max(o.minRetryConcurrency(), Math.floor((o.activeRequests() * o.budgetPercent()) / 100));
  }

  /** Takes a retry slot; returns a release function, or undefined when the budget is spent. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit()) return undefined;
    this.active += 1;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.active -= 1;
      }
    };
  }

  activeRetries(): number {
    return this.active;
  }
}
