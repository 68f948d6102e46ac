/**
 * Active health checking (Envoy `HealthCheck`): every `interval_ms` each node is probed; it
 * turns unhealthy after `unhealthy_threshold` failed probes (at once when it says it is
 * draining) and healthy again after `healthy_threshold` good ones, which also un-ejects it
 * (Envoy `successful_active_health_check_uneject_host`). The probe's load report feeds the
 * balancer and marks saturated nodes (queue depth at the limit) for a cool-down.
 * @module
 */
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { Endpoint, EndpointSet } from '../endpoints.ts';
import type { Pools } from '../pools.ts';
import { probe } from './probe.ts';

export interface HealthCheckerDeps {
  endpoints: EndpointSet;
  pools: Pools;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  health: () => Config['health'];
  saturation: () => Config['saturation'];
}

export class HealthChecker {
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private firstSweep: Promise<void> | undefined;

  constructor(private readonly deps: HealthCheckerDeps) {}

  /** Starts the loop; resolves once the first sweep finished (so startup knows who is ready). */
  start(): Promise<void> {
    if (!this.loop) {
      this.firstSweep = this.sweep();
      this.loop = this.run();
    }
    return this.firstSweep ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    await this.firstSweep;
    while (!this.stop.signal.aborted) {
      try {
        await this.deps.clock.sleep(this.deps.health().interval_ms, this.stop.signal);
      } catch {
        return;
      }
      await this.sweep();
    }
  }

  /** One probe of every node, in parallel. */
  async sweep(): Promise<void> {
    const cfg = this.deps.health();
    await Promise.all(this.deps.endpoints.all().map((e) => this.check(e, cfg)));
    for (const region of this.deps.endpoints.regions()) {
      const nodes = this.deps.endpoints.inRegion(region);
      this.deps.metrics.healthyNodes.set({ region }, nodes.filter((e) => e.healthy).length);
      this.deps.metrics.regionNodes.set({ region }, nodes.length);
    }
  }

  private async check(e: Endpoint, cfg: Config['health']): Promise<void> {
    if (this.stop.signal.aborted) return;
    let pool;
    try {
      pool = this.deps.pools.get(e.url);
    } catch {
      return;
    }
    const now = this.deps.clock.now();
    const r = await probe(pool, cfg.timeout_ms, now);
    if (r.refused) e.consecutiveConnectFailures = Math.max(1, e.consecutiveConnectFailures);
    else if (r.ok) e.consecutiveConnectFailures = 0;
    if (r.load) {
      e.load = r.load;
      e.inflightAtReport = e.inflight;
      const sat = this.deps.saturation();
      const limit = Math.min(sat.queue_depth, r.load.queueLimit);
      if (r.load.queueDepth >= limit && !e.isSaturated(now)) {
        e.saturatedUntil = now + sat.cooldown_ms;
        this.deps.log.warn({ node: e.id, queue_depth: r.load.queueDepth, limit }, 'node saturated');
      }
    }
    if (!e.probed) {
      e.probed = true;
      e.healthy = r.ok;
      e.healthOk = r.ok ? 1 : 0;
      e.healthFail = r.ok ? 0 : 1;
      return;
    }
    if (r.ok) {
      e.healthFail = 0;
      e.healthOk += 1;
      if (!e.healthy && e.healthOk >= cfg.healthy_threshold) {
        e.healthy = true;
        e.ejectedUntil = 0;
        e.consecutiveFailures = 0;
        e.consecutiveConnectFailures = 0;
        this.deps.log.info({ node: e.id, region: e.region }, 'node healthy');
      }
    } else {
      e.healthOk = 0;
      e.healthFail += 1;
      if (e.healthy && (r.draining || e.healthFail >= cfg.unhealthy_threshold)) {
        e.healthy = false;
        this.deps.log.warn({ node: e.id, region: e.region, error: r.error, draining: r.draining }, 'node unhealthy');
      }
    }
  }

  /** Stops probing; idempotent. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.loop?.catch(() => undefined);
  }
}
