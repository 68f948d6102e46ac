/**
 * Monotonic time for measuring durations; wall-clock time never enters a deadline, so a node
 * whose clock is skewed still honours the caller's budget.
 * @module
 */
export interface Clock {
  nowMs(): number;
}

export const monotonicClock: Clock = { nowMs: () => performance.now() };
