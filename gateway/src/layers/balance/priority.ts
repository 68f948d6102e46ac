/**
 * Region choice per attempt (Envoy priority levels + overprovisioning factor + panic threshold).
 *
 * - Regions are ordered home first, then by priority. Each region's health for the model's pool is
 *   its available share × overprovisioning factor (1.4), capped at 100%. The first region takes
 *   that share of traffic and the rest spills to the next, in proportion: a region at 50% healthy
 *   keeps 70%; it keeps all traffic until fewer than ~72% of its nodes are healthy.
 * - Panic: when fewer than `panic_threshold_percent` of all the pool's nodes are available, health
 *   is ignored and every node is a candidate (better some requests fail than all are refused),
 *   except nodes whose last connection attempt was refused.
 * - Saturated nodes get no new requests while another node can serve; a node whose estimated
 *   wait + service time exceeds the try's budget gets none at all (it would only time out). A
 *   try sent into a node's queue has its timeout extended by the estimated wait (at most one more
 *   per-try timeout: a hung node must not hold a request for long), so the budget is the per-try
 *   timeout for the service plus that allowance for the queue, within the deadline.
 *
 * Two ways to the same choice: `chooseRegion` decides from the routing table's per-region counts
 * in O(regions + tried), for the common case (no panic, some listed region has an untried node
 * that may take new work); `selectCandidates` is the exact scan over every capable node, for
 * everything else (panic, only saturated nodes left, nothing left and the reason why).
 * @module
 */
import type { Endpoint } from '../../upstream/endpoints.ts';
import type { ModelHosts, RegionHosts } from '../../upstream/routing-table.ts';

export interface PriorityOptions {
  overprovisioningFactor: number;
  panicThresholdPercent: number;
}

export interface RegionLoad {
  region: string;
  /** Share of traffic (0..1) this region receives. */
  share: number;
}

/** Envoy's priority load: each level takes min(remaining, health × factor). */
export function priorityLoad(health: { region: string; healthy: number; total: number }[], factor: number): RegionLoad[] {
  let remaining = 1;
  const out: RegionLoad[] = [];
  for (const h of health) {
    const score = h.total === 0 ? 0 : Math.min(1, (h.healthy / h.total) * factor);
    const share = Math.min(remaining, score);
    out.push({ region: h.region, share });
    remaining -= share;
  }
  // Total health under 100%: normalise so the healthy levels share all traffic (Envoy normalises).
  const total = out.reduce((s, r) => s + r.share, 0);
  if (total > 0 && total < 1) for (const r of out) r.share /= total;
  return out;
}

/** What one try may spend: its per-try timeout and the time left before the deadline (ms). */
export interface TryBudget {
  tryMs: number;
  leftMs: number;
}

/** How much longer than its per-try timeout a try may take when sent into a queue of `waitMs`. */
export function queueAllowanceMs(waitMs: number, tryMs: number): number {
  return Math.min(waitMs, tryMs);
}

/**
 * A node whose estimated queue wait plus service time is over this try's budget would only time
 * out: it cannot take the request (sending it anyway turns overload into slow 5xx).
 */
export function fitsBudget(e: Endpoint, budget: TryBudget | undefined): boolean {
  const wait = e.estimatedWaitMs();
  if (budget === undefined || wait === 0) return true;
  return wait + e.serviceMs() <= Math.min(budget.tryMs + queueAllowanceMs(wait, budget.tryMs), budget.leftMs);
}

/** Picks an index in proportion to `shares` (which sum to 1) with one draw of `random`. */
function byShare(shares: readonly RegionLoad[], random: () => number): number {
  let x = random();
  for (let i = 0; i < shares.length; i++) {
    x -= shares[i]!.share;
    if (x < 0) return i;
  }
  return shares.length - 1;
}

/**
 * The region for this attempt by priority load, from the routing table's counts: each listed
 * region's health is its fresh nodes (available, not saturated) less those this request tried,
 * over its total. Undefined when the exact scan must decide: panic, or no listed region has an
 * untried fresh node. Whether a node fits the try's budget is left to the pick (the scan also
 * drops regions where no fresh node fits; the balance layer falls back to it when none does).
 */
export function chooseRegion(
  hosts: ModelHosts,
  regions: readonly string[],
  tried: ReadonlySet<string>,
  options: PriorityOptions,
  random: () => number = Math.random,
): RegionHosts | undefined {
  if (hosts.available * 100 < hosts.nodes.length * options.panicThresholdPercent) return undefined;
  let triedIn: Map<string, number> | undefined;
  for (const id of tried) {
    const region = hosts.freshRegion.get(id);
    if (region !== undefined) (triedIn ??= new Map()).set(region, (triedIn.get(region) ?? 0) + 1);
  }
  const withNodes: { hosts: RegionHosts; healthy: number }[] = [];
  for (const region of regions) {
    const r = hosts.regions.get(region);
    const untried = r ? r.fresh.length - (triedIn?.get(region) ?? 0) : 0;
    if (r && untried > 0) withNodes.push({ hosts: r, healthy: untried });
  }
  if (withNodes.length === 0) return undefined;
  const shares = priorityLoad(
    withNodes.map((w) => ({ region: w.hosts.region, healthy: w.healthy, total: w.hosts.total })),
    options.overprovisioningFactor,
  );
  return withNodes[byShare(shares, random)]!.hosts;
}

export interface Selection {
  candidates: Endpoint[];
  region: string | undefined;
  panic: boolean;
  /** Why there is nothing to pick: every capable node tried, unavailable, or saturated. */
  empty?: 'tried' | 'unavailable' | 'saturated';
}

/**
 * Candidates for one attempt, by a scan of `pool` (every capable node): the untried nodes of one
 * region, chosen by priority load. `random` picks the region in proportion to the shares.
 */
export function selectCandidates(
  pool: readonly Endpoint[],
  regions: readonly string[],
  tried: ReadonlySet<string>,
  now: number,
  options: PriorityOptions,
  random: () => number = Math.random,
  /** This try's time budget; nodes that cannot answer within it are skipped. */
  budget?: TryBudget,
): Selection {
  if (pool.length === 0) return { candidates: [], region: undefined, panic: false, empty: 'unavailable' };
  const available = pool.filter((e) => e.isAvailable(now));
  const panic = available.length * 100 < pool.length * options.panicThresholdPercent;
  // In panic every node is a candidate except those known to refuse connections (a refusal is
  // proof, a failed health check only a hint) — unless that would leave none.
  const usable = (e: Endpoint) => !tried.has(e.id) && (panic ? e.breakerState() !== 'open' : e.isAvailable(now));
  let untried = pool.filter(usable);
  if (panic) {
    const notRefusing = untried.filter((e) => e.consecutiveConnectFailures === 0);
    if (notRefusing.length > 0) untried = notRefusing;
  }
  if (untried.length === 0) {
    const anyUntried = pool.some((e) => !tried.has(e.id));
    return { candidates: [], region: undefined, panic, empty: anyUntried ? 'unavailable' : 'tried' };
  }
  const fits = (e: Endpoint) => fitsBudget(e, budget);
  // Prefer nodes that are not saturated; use saturated ones only when nothing else can serve.
  const fresh = untried.filter((e) => !e.isSaturated(now) && fits(e));
  const pickFrom = fresh.length > 0 ? fresh : untried.filter((e) => fits(e) && e.outstanding() < e.slots() + (e.load?.queueLimit ?? 0));
  if (pickFrom.length === 0) return { candidates: [], region: undefined, panic, empty: 'saturated' };

  // One pass over the pool per list, not three per region (gateway benchmarks: with 10 regions
  // the per-region filters were ~85 % of the balance layer's cost at 1,000 nodes).
  const byRegion = regions.map((region) => ({ region, nodes: [] as Endpoint[], healthy: 0, total: 0 }));
  const slot = new Map(byRegion.map((r) => [r.region, r]));
  for (const e of pool) {
    const r = slot.get(e.region);
    if (!r) continue;
    r.total += 1;
    if (e.isAvailable(now) && !e.isSaturated(now)) r.healthy += 1;
  }
  for (const e of pickFrom) slot.get(e.region)?.nodes.push(e);
  const withNodes = byRegion.filter((r) => r.nodes.length > 0);
  if (withNodes.length === 0) return { candidates: [], region: undefined, panic, empty: 'unavailable' };
  const shares = panic
    ? withNodes.map((r) => ({ region: r.region, share: 1 / withNodes.length }))
    : priorityLoad(
        withNodes.map((r) => ({ region: r.region, healthy: Math.min(r.healthy, r.nodes.length), total: r.total })),
        options.overprovisioningFactor,
      );
  const chosen = withNodes[byShare(shares, random)]!;
  return { candidates: chosen.nodes, region: chosen.region, panic };
}
