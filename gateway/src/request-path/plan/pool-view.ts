/**
 * A snapshot of one model's pool, for planning: how many nodes can take work now, the best
 * estimated queue wait and utilisation among them. Read from the routing table's host set
 * (routing-table.ts), not a scan of every node: the count is always exact. The load figures move
 * with every request this gateway sends, so a small pool (≤ `LIVE_MAX` fresh nodes) computes them
 * live: there one request is a large share of the pool, and a view that missed the request just
 * sent would keep the busy latch from entering (test/scenarios/routing.test.ts). A larger pool
 * computes them once per host-set snapshot (at most `MAX_AGE_MS`, 100 ms, old), where one request
 * barely moves the best node's figures and a scan per request is what made planning O(nodes).
 * No I/O.
 * @module
 */
import type { Endpoint, EndpointSet } from '../../upstream/endpoints.ts';
import type { ModelHosts } from '../../upstream/routing-table.ts';

export interface PoolView {
  /** Nodes available (healthy, not ejected, breaker not open) and not saturated. */
  available: number;
  /** Best estimated wait for a slot among them (∞ when none). */
  waitMs: number;
  /** Lowest utilisation (outstanding / slots) among them (∞ when none). */
  utilization: number;
}

/** Up to this many fresh nodes the load figures are computed on every call. */
export const LIVE_MAX = 32;

/** One view per snapshot of a large pool: a new snapshot (a state change, or age) is a new key. */
const views = new WeakMap<ModelHosts, Readonly<PoolView>>();

export function poolView(endpoints: EndpointSet, model: string, now: number, pack?: string): Readonly<PoolView> {
  const hosts = endpoints.hosts(model, pack, now);
  if (hosts.fresh <= LIVE_MAX) return summarise(hosts);
  let view = views.get(hosts);
  if (!view) views.set(hosts, (view = summarise(hosts)));
  return view;
}

function summarise(hosts: ModelHosts): PoolView {
  let waitMs = Number.POSITIVE_INFINITY;
  let utilization = Number.POSITIVE_INFINITY;
  const each = (e: Endpoint) => {
    waitMs = Math.min(waitMs, e.estimatedWaitMs());
    utilization = Math.min(utilization, e.utilization());
  };
  for (const region of hosts.regions.values()) region.fresh.forEach(each);
  return { available: hosts.fresh, waitMs, utilization };
}
