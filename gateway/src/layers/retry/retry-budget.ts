/**
 * The retry budget: retries may not amplify an overload. Two limits, both must allow a retry:
 *
 * 1. Concurrency (Envoy `retry_budget`): retries in progress ≤ `budget_percent` of the requests
 *    in progress, but at least `min_retry_concurrency` — unless the model's pool has an idle slot.
 *    Envoy sizes this for millisecond RPCs; a synthesis holds its slot for seconds, so at a modest
 *    rate one node breaking its answers keeps more than 3 retries in flight (Little's law) while
 *    the other nodes sit idle (chaos scenarios 3–6). A retry onto an idle slot amplifies no
 *    overload: in an overload there is no idle slot, and the limit applies in full.
 * 2. Ratio over time (Finagle `RetryBudget`): every admitted request deposits `budget_percent`/100
 *    of a token, every retry withdraws one; the balance starts at and is capped by
 *    max(min_retry_concurrency, budget_percent × max concurrency). With every node failing fast,
 *    the concurrency limit alone would let a few requests retry back to back forever; the deposit
 *    keeps total upstream attempts ≤ (1 + budget_percent) × requests + the reserve.
 *
 * A retry that finds no room fails at once (it is not queued).
 * @module
 */
export interface RetryBudgetOptions {
  budgetPercent: () => number;
  minRetryConcurrency: () => number;
  /** Requests in progress at the gateway. */
  activeRequests: () => number;
  /** The gateway's concurrency limit (sizes the token reserve). */
  maxConcurrency?: () => number;
  /** Free slots right now on available nodes serving `model`; absent: never any. */
  idleSlots?: (model: string) => number;
}

export class RetryBudget {
  private active = 0;
  private tokens: number;
  constructor(private readonly options: RetryBudgetOptions) {
    this.tokens = this.capacity();
  }

  /** Room for concurrent retries right now. */
  limit(): number {
    const o = this.options;
    return Math.max(o.minRetryConcurrency(), Math.floor((o.activeRequests() * o.budgetPercent()) / 100));
  }

  private capacity(): number {
    const o = this.options;
    return Math.max(o.minRetryConcurrency(), ((o.maxConcurrency?.() ?? 0) * o.budgetPercent()) / 100);
  }

  /** Called once per admitted request: earns a fraction of a retry. */
  deposit(): void {
    this.tokens = Math.min(this.capacity(), this.tokens + this.options.budgetPercent() / 100);
  }

  /** Takes a retry slot for a request to `model`; returns a release function, or undefined when the budget is spent. */
  tryAcquire(model: string): (() => void) | undefined {
    if (this.tokens < 1) return undefined;
    if (this.active >= this.limit() && !((this.options.idleSlots?.(model) ?? 0) > 0)) return undefined;
    this.active += 1;
    this.tokens -= 1;
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
  balance(): number {
    return this.tokens;
  }
}
