/**
 * The judge's CPU budget. A pair costs ~0.2 s of CPU (seconds more with ASR), so at a few hundred
 * requests a second a 5 % sample would cost more cores than serving them (gateway bench: +101 %
 * CPU per request with shadow on). So judging spends `serving_share` of what serving costs (the
 * gateway's main-thread busy time), at least `min_core_share` of a core so a quiet gateway still
 * judges, and at most `max_core_share` (`judgeShare`). A fixed share of a core was +17-28 % CPU
 * per request at ~640 req/s; relative to serving it is the same few percent at any load. The
 * mirror asks before it sends: a pair the judge cannot afford is still mirrored, but neither
 * side's audio is kept, and it counts for the canary's errors and latency only.
 *
 * A token bucket in core-milliseconds: time earns `share` ms per ms, capped at `burstMs`; a pair
 * reserves the running mean of recent pairs' cost when admitted and settles its measured cost
 * when judged, so concurrent admissions cannot overspend for long.
 * @module
 */
export interface JudgeBudgetOptions {
  /** Share of one core judging may use (0..1). */
  share: () => number;
  now: () => number;
  /** Largest balance saved up while idle, in pairs (default 4): at least one per canary, as a sampled request is mirrored to each at once. */
  burstPairs?: () => number;
}

export interface JudgeShareConfig {
  serving_share: number;
  min_core_share: number;
  max_core_share: number;
}

/** The share of one core the judge may spend while serving takes `servingCores`. */
export function judgeShare(cfg: JudgeShareConfig, servingCores: number): number {
  return Math.min(cfg.max_core_share, Math.max(cfg.min_core_share, cfg.serving_share * servingCores));
}

/** The cost assumed for a pair before any was measured (core-ms). */
const FIRST_ESTIMATE_MS = 250;

export class JudgeBudget {
  private balance: number;
  private at: number;
  private estimate = FIRST_ESTIMATE_MS;

  constructor(private readonly o: JudgeBudgetOptions) {
    this.balance = this.burst();
    this.at = o.now();
  }

  /** At least one pair's cost, or a dear pair could never be afforded. */
  private burst(): number {
    return Math.max(1, this.o.burstPairs?.() ?? 4) * this.estimate;
  }

  private refill(): void {
    const now = this.o.now();
    this.balance = Math.min(this.burst(), this.balance + Math.max(0, now - this.at) * this.o.share());
    this.at = now;
  }

  /** Reserves one pair's estimated cost; returns the reservation, or undefined when over budget. */
  tryReserve(): number | undefined {
    this.refill();
    if (this.balance < this.estimate) return undefined;
    this.balance -= this.estimate;
    return this.estimate;
  }

  /** Whether `tryReserve` would succeed now. */
  affords(): boolean {
    this.refill();
    return this.balance >= this.estimate;
  }

  /** Settles a reservation with the pair's measured cost (0 when it was never judged). */
  settle(reserved: number, spentMs: number): void {
    this.balance += reserved - spentMs;
    if (spentMs > 0) this.estimate += 0.2 * (spentMs - this.estimate);
  }
}
