/**
 * A snapshot of one model's pool, for planning: how many nodes can take work now, the best
 * estimated queue wait and utilisation among them. Read from the routing table's host set
 * (routing-table.ts), not a scan of every node: the count is exact, and the load figures are
 * computed once per host-set snapshot, so they are at most `MAX_AGE_MS` (100 ms) old — fresher
 * than the node load reports they mostly come from. No I/O.
 * @module
 */
import type { EndpointSet } from '../../upstream/endpoints.ts';
import type { ModelHosts } from '../../upstream/routing-table.ts';

export interface PoolView {
  /** Nodes available (healthy, not ejected, breaker not open) and not saturated. */
  available: number;
  /** Best estimated wait for a slot among them (∞ when none). */
  waitMs: number;
  /** Lowest utilisation (outstanding / slots) among them (∞ when none). */
  utilization: number;
}

/** One view per snapshot: a new snapshot (a state change, or age) is a new key. */
const views = new WeakMap<ModelHosts, Readonly<PoolView>>();

export function poolView(endpoints: EndpointSet, model: string, now: number, pack?: string): Readonly<PoolView> {
  const hosts = endpoints.hosts(model, pack, now);
  let view = views.get(hosts);
  if (!view) {
    let waitMs = Number.POSITIVE_INFINITY;
    let utilization = Number.POSITIVE_INFINITY;
    for (const region of hosts.regions.values())
      for (const e of region.fresh) {
        waitMs = Math.min(waitMs, e.estimatedWaitMs());
        utilization = Math.min(utilization, e.utilization());
      }
    view = { available: hosts.fresh, waitMs, utilization };
    views.set(hosts, view);
  }
  return view;
}
