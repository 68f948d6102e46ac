/**
 * Per-model host sets (Envoy's `PrioritySet`/`HostSet`): for a model (and pack), the nodes that
 * serve it and, per region, how many there are and which may take new work now (available and
 * not saturated). The balancer and the plan's pool view read these snapshots instead of scanning
 * every node on every request, which made a routing decision O(nodes) (gateway bench: 40× slower at
 * 1,000 nodes than at 10).
 *
 * A snapshot is rebuilt (lazily, on the next read) when something it counts changes: the topology
 * (`EndpointSet.update`), a node's health, ejection, saturation, breaker state or reported packs
 * (the endpoint calls `invalidate`), or the first ejection or saturation among its nodes runs out
 * (time, not an event). `MAX_AGE_MS` is a backstop for a change that reported nothing. Picks never
 * rely on a snapshot alone: the balancer re-checks each drawn node live, so a stale count can only
 * skew the region shares for a moment, never send a request to a node that cannot take it.
 * @module
 */
import type { Endpoint } from './endpoints.ts';

/** Oldest a snapshot may be (ms); it also bounds how stale the pool view's load figures get. */
export const MAX_AGE_MS = 100;

export interface RegionHosts {
  readonly region: string;
  /** Nodes of this region serving the model. */
  readonly total: number;
  /** Of those, the ones that may take new work now: available and not saturated (config order). */
  readonly fresh: readonly Endpoint[];
}

export interface ModelHosts {
  /** Every node serving the model, all regions, in config order. */
  readonly nodes: readonly Endpoint[];
  /** How many of `nodes` are available (healthy, not ejected, breaker not open), saturated or not. */
  readonly available: number;
  /** How many may take new work now, all regions together. */
  readonly fresh: number;
  readonly regions: ReadonlyMap<string, RegionHosts>;
  /** The region of each fresh node, by id (to discount the nodes a request already tried). */
  readonly freshRegion: ReadonlyMap<string, string>;
}

interface Entry {
  hosts: ModelHosts;
  validUntil: number;
}

export class RoutingTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly nodes: () => readonly Endpoint[]) {}

  /** Drops every snapshot; O(1), the next read rebuilds the one it needs. */
  invalidate(): void {
    this.entries.clear();
  }

  /** The snapshot for `model` (and, when given, the pack nodes must have loaded). */
  hosts(model: string, pack: string | undefined, now: number): ModelHosts {
    const key = pack === undefined ? model : `${model}\u0000${pack}`;
    const cached = this.entries.get(key);
    if (cached && now < cached.validUntil) return cached.hosts;
    const entry = build(this.nodes(), model, pack, now);
    this.entries.set(key, entry);
    return entry.hosts;
  }
}

function build(all: readonly Endpoint[], model: string, pack: string | undefined, now: number): Entry {
  const nodes: Endpoint[] = [];
  const regions = new Map<string, { region: string; total: number; fresh: Endpoint[] }>();
  const freshRegion = new Map<string, string>();
  let available = 0;
  let validUntil = now + MAX_AGE_MS;
  for (const e of all) {
    if (!e.serves(model, pack)) continue;
    nodes.push(e);
    let r = regions.get(e.region);
    if (!r) regions.set(e.region, (r = { region: e.region, total: 0, fresh: [] }));
    r.total += 1;
    // Ejection and saturation end by the clock, with no event: the snapshot ends with the first.
    if (e.ejectedUntil > now) validUntil = Math.min(validUntil, e.ejectedUntil);
    if (e.saturatedUntil > now) validUntil = Math.min(validUntil, e.saturatedUntil);
    if (!e.isAvailable(now)) continue;
    available += 1;
    if (e.isSaturated(now)) continue;
    r.fresh.push(e);
    freshRegion.set(e.id, e.region);
  }
  return { hosts: { nodes, available, fresh: freshRegion.size, regions, freshRegion }, validUntil };
}
