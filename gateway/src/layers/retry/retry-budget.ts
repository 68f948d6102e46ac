/**
 * The retry budget: retries may not amplify an overload. Two limits, both must allow a retry:
 *
 * 1. Concurrency (Envoy `retry_budget`): retries in progress ≤ `budget_percent` of the requests
 *    in progress, but at least `min_retry_concurrency` — unless the model's pool has room for the
 *    retry without shedding. Envoy sizes this for millisecond RPCs; a synthesis holds its slot for
 *    seconds, so at a modest rate one node breaking its answers keeps more than 3 retries in
 *    flight (Little's law) while the other nodes sit idle (chaos scenarios 3–6). A retry into room
 *    the pool has amplifies no overload: in an overload nodes are saturated, there is no room, and
 *    the limit applies in full.
 * 2. Ratio over time (Finagle/linkerd `RetryBudget`): every admitted request deposits
 *    `budget_percent`/100 of a token, time deposits `min_retries_per_second`, every retry
 *    withdraws one; the balance is capped by max(min_retry_concurrency, min_retries_per_second,
 *    budget_percent × max concurrency). With every node failing fast the concurrency limit alone
 *    would let requests retry back to back forever; the deposit keeps upstream attempts ≤
 *    (1 + budget_percent) × requests + min_retries_per_second × seconds + the reserve. The time
 *    deposit is what lets a quiet service retry at all: at 5 req/s the ratio alone earns one
 *    retry a second.
 *
 * A retry that finds no budget fails at once (it is not queued).
 * @module
 */
export interface RetryBudgetOptions {
  budgetPercent: () => number;
  minRetryConcurrency: () => number;
  minRetriesPerSecond: () => number;
  /** Requests in progress at the gateway. */
  activeRequests: () => number;
  /** The gateway's concurrency limit (sizes the token reserve). */
  maxConcurrency: () => number;
  /** Requests the nodes serving `model` would take right now without shedding. */
  room: (model: string) => number;
  now: () => number;
}

export class RetryBudget {
  private active = 0;
  private tokens: number;
  private refilledAt: number;
  private refused = '';
  constructor(private readonly options: RetryBudgetOptions) {
    this.tokens = this.capacity();
    this.refilledAt = options.now();
  }

  /** Room for concurrent retries right now (before the pool's room is considered). */
  limit(): number {
    const o = this.options;
    return Math.max(o.minRetryConcurrency(), Math.floor((o.activeRequests() * o.budgetPercent()) / 100));
  }

  private capacity(): number {
    const o = this.options;
    return Math.max(o.minRetryConcurrency(), o.minRetriesPerSecond(), (o.maxConcurrency() * o.budgetPercent()) / 100);
  }

  private add(tokens: number): void {
    this.tokens = Math.min(this.capacity(), this.tokens + tokens);
  }

  /** Called once per admitted request: earns a fraction of a retry. */
  deposit(): void {
    this.add(this.options.budgetPercent() / 100);
  }

  /**
   * Takes a retry slot for a request to `model`; returns a release function, or undefined when
   * the budget is spent (`refusal()` then says which limit).
   */
  tryAcquire(model: string): (() => void) | undefined {
    const now = this.options.now();
    this.add((Math.max(0, now - this.refilledAt) / 1000) * this.options.minRetriesPerSecond());
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.refused = `ratio: ${this.tokens.toFixed(1)} retries earned`;
      return undefined;
    }
    if (this.active >= this.limit() && this.options.room(model) <= 0) {
      this.refused = `concurrency: ${this.active} retries in flight, limit ${this.limit()}, no room on ${model}`;
      return undefined;
    }
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

  /** Which limit refused the last retry (for the error message and logs). */
  refusal(): string {
    return this.refused;
  }

  activeRetries(): number {
    return this.active;
  }
  balance(): number {
    return this.tokens;
  }
}
