/**
 * Exponential backoff with full jitter (AWS architecture blog; Envoy: base 25 ms, max 10× base):
 * delay = random(0, min(max, base × 2^(retry-1))). `random` is injected so tests use zero jitter.
 * @module
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function fullJitterBackoff(retry: number, { baseMs, maxMs, random = Math.random }: BackoffOptions): number {
  if (!(baseMs >= 0) || !(maxMs >= baseMs)) throw new RangeError('backoff: need 0 ≤ base ≤ max');
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}
