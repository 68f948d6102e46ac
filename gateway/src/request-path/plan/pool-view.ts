/**
 * A snapshot of one model's pool, for planning: how many nodes can take work now, the best
 * estimated queue wait and utilisation among them. Computed from endpoint state; no I/O.
 * @module
 */
import type { EndpointSet } from '../../upstream/endpoints.ts';

export interface PoolView {
  /** Nodes available (healthy, not ejected, breaker not open) and not saturated. */
  available: number;
  /** Best estimated wait for a slot among them (∞ when none). */
  waitMs: number;
  /** Lowest utilisation (outstanding / slots) among them (∞ when none). */
  utilization: number;
}

export function poolView(endpoints: EndpointSet, model: string, now: number, pack?: string): PoolView {
  let available = 0;
  let waitMs = Number.POSITIVE_INFINITY;
  let utilization = Number.POSITIVE_INFINITY;
  for (const e of endpoints.all()) {
    if (!e.serves(model, pack) || !e.isAvailable(now) || e.isSaturated(now)) continue;
    available += 1;
    waitMs = Math.min(waitMs, e.estimatedWaitMs());
    utilization = Math.min(utilization, e.utilization());
  }
  return { available, waitMs, utilization };
}
