/**
 * What the gateway knows about each node: active health, node-reported load, gateway in-flight,
 * latency EWMA, outlier ejection and saturation. `EndpointSet` groups them by region and model
 * (the routing table: per-model host sets, so a request never scans every node) and enforces
 * Envoy's `max_ejection_percent` so detection never empties a region.
 * @module
 */
import type { Config, NodeConfig } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import { MAX_AGE_MS, RoutingTable, type ModelHosts } from './routing-table.ts';

export interface NodeLoad {
  ready: boolean;
  draining: boolean;
  slots: number;
  inflight: number;
  queueDepth: number;
  queueLimit: number;
  latencyEwmaMs: number;
  /** Pack names the node reports loaded (undefined when it did not say). */
  packs?: string[];
  /** Pack name → version the node serves (the audio cache keys on it). */
  packVersions?: Record<string, string>;
  /** The range of `sample_rate` the node answers at on request (absent: an older node). */
  outputSampleRates?: { min: number; max: number };
  at: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

const LATENCY_DECAY_MS = 5_000;

const samePacks = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((p, i) => p === b[i]));

export class Endpoint {
  readonly id: string;
  readonly region: string;
  url: string;
  models: ReadonlySet<string>;
  /**
   * Told when something the routing table counts changes (health, ejection, saturation, breaker,
   * packs). The fields below are accessors for that reason: whoever sets them (health checker,
   * outlier detection, tests) cannot forget to tell. `EndpointSet` wires it.
   */
  onChange: () => void = () => undefined;
  #healthy = true;
  #ejectedUntil = 0;
  #saturatedUntil = 0;
  #load: NodeLoad | undefined;
  /** False until the first probe answered: the first result sets health directly. */
  probed = false;
  healthOk = 0;
  healthFail = 0;
  /** Requests this gateway has in flight to the node (see `begin`/`end`). */
  inflight = 0;
  private readonly started = new Map<number, number>();
  private nextToken = 0;
  /** Our in-flight count when the last load report arrived: the rest of the report is others' work. */
  inflightAtReport = 0;
  /** Gateway-measured service-latency EWMA (ms) of successful calls, and when it was last fed. */
  latencyEwmaMs = 0;
  latencyAt = 0;
  consecutiveFailures = 0;
  consecutiveConnectFailures = 0;
  ejections = 0;
  /** Set by the breaker layer, which also calls `changed()` on each transition; read by the balancer and `/v1/status`. */
  breakerState: () => BreakerState = () => 'closed';

  constructor(
    node: NodeConfig,
    region: string,
    private readonly clock: Clock,
  ) {
    this.id = node.id;
    this.region = region;
    this.url = node.url.replace(/\/+$/, '');
    this.models = new Set(node.models);
  }

  /** Active health (health/checker.ts); starts healthy so a fresh gateway can serve at once. */
  get healthy(): boolean {
    return this.#healthy;
  }
  set healthy(v: boolean) {
    if (v === this.#healthy) return;
    this.#healthy = v;
    this.onChange();
  }
  get ejectedUntil(): number {
    return this.#ejectedUntil;
  }
  set ejectedUntil(v: number) {
    if (v === this.#ejectedUntil) return;
    this.#ejectedUntil = v;
    this.onChange();
  }
  get saturatedUntil(): number {
    return this.#saturatedUntil;
  }
  set saturatedUntil(v: number) {
    if (v === this.#saturatedUntil) return;
    this.#saturatedUntil = v;
    this.onChange();
  }
  /** The node's last load report. Only its packs decide routing membership; the rest is read live. */
  get load(): NodeLoad | undefined {
    return this.#load;
  }
  set load(v: NodeLoad | undefined) {
    const before = this.#load?.packs;
    this.#load = v;
    if (!samePacks(before, v?.packs)) this.onChange();
  }
  /** Something routing counts changed that no setter saw (the breaker layer calls it on a transition). */
  changed(): void {
    this.onChange();
  }

  /** Configured to serve `model` and, when the node reported its packs, actually serving `pack`. */
  serves(model: string, pack?: string): boolean {
    if (!this.models.has(model)) return false;
    const packs = this.load?.packs;
    return pack === undefined || packs === undefined || packs.includes(pack);
  }
  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }
  isSaturated(now: number): boolean {
    return this.saturatedUntil > now;
  }
  /** Healthy, not ejected, breaker not open: may receive traffic (saturation aside). */
  isAvailable(now: number): boolean {
    return this.healthy && !this.isEjected(now) && this.breakerState() !== 'open';
  }
  /**
   * Requests ahead of a new one on this node: our own in-flight count (exact, live) plus the work
   * other gateways had there at the last report (reported minus ours at that moment; stale by at
   * most one health interval, so our own finished requests never linger as load).
   */
  outstanding(): number {
    const others = this.load ? Math.max(0, this.load.inflight + this.load.queueDepth - this.inflightAtReport) : 0;
    return this.inflight + others;
  }
  slots(): number {
    return Math.max(1, this.load?.slots ?? 1);
  }
  /**
   * The latency estimate used for balancing (peak EWMA, as in Finagle/linkerd): the EWMA of
   * service time, decaying toward zero while no call feeds it (τ = 5 s) — without the decay a node
   * that was slow once would keep a high score, never be picked, and never get the call that could
   * lower it — but never below the age of its oldest request still in flight.
   */
  latencyMs(): number {
    const now = this.clock.now();
    // Peak: a request still outstanding after longer than the estimate raises it (a hung node
    // must look slower and slower, not idle). `started` iterates in insertion order, which is
    // start order, so its first entry is the oldest request in flight: O(1), not O(in flight).
    const oldest = this.started.values().next().value ?? now;
    return Math.max(this.serviceMs(), now - oldest);
  }

  /** Service time per request (decayed EWMA, without the peak): what queue-wait estimates use. */
  serviceMs(): number {
    if (this.latencyEwmaMs === 0) return Math.max(1, this.load?.latencyEwmaMs || 100);
    return Math.max(1, this.latencyEwmaMs * Math.exp(-Math.max(0, this.clock.now() - this.latencyAt) / LATENCY_DECAY_MS));
  }

  /** Marks a request sent to this node; pass the token to `end` when it settles. */
  begin(): number {
    const token = ++this.nextToken;
    this.started.set(token, this.clock.now());
    this.inflight += 1;
    return token;
  }

  end(token: number): void {
    if (this.started.delete(token)) this.inflight -= 1;
  }
  /** Estimated wait for a slot (ms): work ahead of us beyond the free slots, spread over slots. */
  estimatedWaitMs(): number {
    const ahead = this.outstanding() + 1 - this.slots();
    return ahead <= 0 ? 0 : (ahead / this.slots()) * this.serviceMs();
  }
  utilization(): number {
    return this.outstanding() / this.slots();
  }
  observeLatency(ms: number): void {
    const current = this.latencyEwmaMs === 0 ? ms : this.serviceMs();
    this.latencyEwmaMs = current + 0.2 * (ms - current);
    this.latencyAt = this.clock.now();
  }
}

export class EndpointSet {
  private byId = new Map<string, Endpoint>();
  /** Built on update, not per call: `all()` and `inRegion()` are on hot paths. */
  private list: readonly Endpoint[] = [];
  private byRegion = new Map<string, readonly Endpoint[]>();
  private regionOrder: { name: string; priority: number }[] = [];
  private readonly table = new RoutingTable(() => this.list);
  private peer = { at: -Infinity, ms: 0 };

  constructor(
    regions: Config['regions'],
    private readonly clock: Clock,
  ) {
    this.update(regions);
  }

  /** Reconciles with a new topology; returns the origins no longer used (their pools close). */
  update(regions: Config['regions']): string[] {
    const next = new Map<string, Endpoint>();
    for (const region of regions)
      for (const node of region.nodes) {
        const existing = this.byId.get(node.id);
        if (existing && existing.region === region.name) {
          existing.url = node.url.replace(/\/+$/, '');
          existing.models = new Set(node.models);
          next.set(node.id, existing);
        } else next.set(node.id, new Endpoint(node, region.name, this.clock));
      }
    const removed = [...this.byId.values()].filter((e) => next.get(e.id) !== e).map((e) => e.url);
    this.byId = next;
    this.list = [...next.values()];
    this.byRegion = new Map(regions.map((r) => [r.name, this.list.filter((e) => e.region === r.name)]));
    this.regionOrder = regions.map((r) => ({ name: r.name, priority: r.priority }));
    const invalidate = () => this.table.invalidate();
    for (const e of this.list) e.onChange = invalidate;
    this.table.invalidate();
    const kept = new Set([...next.values()].map((e) => e.url));
    return removed.filter((u) => !kept.has(u));
  }

  /** Every node, in config order (shared: do not mutate). */
  all(): readonly Endpoint[] {
    return this.list;
  }
  get(id: string): Endpoint | undefined {
    return this.byId.get(id);
  }
  regions(): string[] {
    return this.regionOrder.map((r) => r.name);
  }
  inRegion(region: string): readonly Endpoint[] {
    return this.byRegion.get(region) ?? [];
  }
  /** The routing table's snapshot for `model` (and pack): see routing-table.ts. */
  hosts(model: string, pack: string | undefined, now: number): ModelHosts {
    return this.table.hosts(model, pack, now);
  }
  /**
   * Median service-latency EWMA across nodes that have one (the breaker's slow-call floor).
   * Recomputed at most every `MAX_AGE_MS`: a sort over every node per call was O(n log n) per request.
   */
  peerLatencyMs(): number {
    const now = this.clock.now();
    if (now - this.peer.at < MAX_AGE_MS) return this.peer.ms;
    const l = this.list
      .filter((e) => e.latencyEwmaMs > 0)
      .map((e) => e.latencyEwmaMs)
      .sort((a, b) => a - b);
    this.peer = { at: now, ms: l.length === 0 ? 0 : l[Math.floor(l.length / 2)]! };
    return this.peer.ms;
  }

  /** Home region first, then the others by priority (stable in config order). */
  regionsFrom(home: string): string[] {
    const others = this.regionOrder.filter((r) => r.name !== home).sort((a, b) => a.priority - b.priority);
    return [...(this.regionOrder.some((r) => r.name === home) ? [home] : []), ...others.map((r) => r.name)];
  }

  /**
   * Requests the nodes serving `model` would take right now without shedding: free slots and
   * queue places on available nodes that are not saturated (for the retry budget).
   */
  room(model: string): number {
    let room = 0;
    for (const e of this.takingWork(model, this.clock.now())) room += Math.max(0, e.slots() + (e.load?.queueLimit ?? 0) - e.outstanding());
    return room;
  }

  /**
   * The nodes serving `model` that may take new work now (available, not saturated), from the
   * model's host set (O(its nodes)), checked live again because the set is a snapshot. For the
   * paths off the request's own (retry room, canary choice); the balancer samples instead.
   */
  *takingWork(model: string, now: number): Generator<Endpoint> {
    for (const r of this.hosts(model, undefined, now).regions.values()) for (const e of r.fresh) if (e.isAvailable(now) && !e.isSaturated(now)) yield e;
  }

  /**
   * Ejects `e` for base × ejection count (capped) unless that would push the region's ejected
   * share over `maxPercent` (at least one node may always be ejected). Returns whether enforced.
   */
  eject(e: Endpoint, baseMs: number, maxMs: number, maxPercent: number): boolean {
    const now = this.clock.now();
    const region = this.inRegion(e.region);
    const ejected = region.filter((x) => x !== e && x.isEjected(now)).length;
    const cap = Math.max(1, Math.floor((region.length * maxPercent) / 100));
    if (ejected + 1 > cap) return false;
    e.ejections += 1;
    e.ejectedUntil = now + Math.min(maxMs, baseMs * e.ejections);
    return true;
  }
}
