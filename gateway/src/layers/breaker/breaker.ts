/**
 * One opossum circuit breaker per node. It opens when the error percentage over the rolling
 * window passes the threshold (after `volume_threshold` calls) or when the slow-call ratio trips;
 * after `reset_timeout_ms` it lets one half-open probe through and closes on its success.
 * Only `failure` outcomes count (`errorFilter`): a full node (overload), a bad request or a
 * cancelled one say nothing about the node's health. A call's slowness is judged without the
 * queue time the node reports (`x-queue-ms`): waiting for a slot is load, not sickness; and
 * "expected" is never below 3× the pool's median service latency, so when every node is slow
 * (the whole machine is starved) no breaker trips for it — only a node slow next to its peers. Opossum's own timeout is off: deadlines
 * are AbortSignals (layers/timeout), which free the socket.
 * @module
 */
import CircuitBreaker from 'opossum';
import type { Config } from '../../config/schema.ts';
import { fromBreakerError } from '../../errors/from-upstream.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import { classify } from '../../errors/classify.ts';
import type { BreakerState, Endpoint } from '../../upstream/endpoints.ts';
import type { Layer, Service, UpstreamRequest, UpstreamResponse } from '../../upstream/service.ts';
import { SlowCallTracker, expectedCallMs } from './slow-call.ts';

type BreakerConfig = Config['breaker'];

interface Entry {
  breaker: CircuitBreaker<[Service, UpstreamRequest], UpstreamResponse>;
  slow: SlowCallTracker;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export class Breakers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly deps: {
      config: () => BreakerConfig;
      clock: Clock;
      log: Logger;
      metrics: GatewayMetrics;
      /** The per-try timeout ceiling: the window must outlast a try (see `for`). */
      attemptMs?: () => number;
    },
  ) {}

  /** The breaker for a node, created on first use; wires `endpoint.breakerState`. */
  for(endpoint: Endpoint): Entry {
    let entry = this.entries.get(endpoint.id);
    if (entry) return entry;
    const cfg = this.deps.config();
    const breaker = new CircuitBreaker<[Service, UpstreamRequest], UpstreamResponse>((inner, req) => inner(req), {
      timeout: false,
      errorThresholdPercentage: cfg.error_threshold_percentage,
      volumeThreshold: cfg.volume_threshold,
      resetTimeout: cfg.reset_timeout_ms,
      // Opossum counts a call when it starts and its failure when it ends: a window shorter than
      // a try forgets the start before a timeout lands, and timeouts could never open the breaker.
      rollingCountTimeout: Math.max(cfg.rolling_window_ms, 2 * (this.deps.attemptMs?.() ?? 0)),
      rollingCountBuckets: 10,
      errorFilter: (err: unknown) => classify(err) !== 'failure',
      name: endpoint.id,
      // Opossum's cheapest mode: no latency list per call (sorted on every failure's stats read
      // and every snapshot) and no snapshot timer; nothing here reads either.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    const { metrics, log } = this.deps;
    const node = endpoint.id;
    const slow = new SlowCallTracker({
      ratio: () => this.deps.config().slow_call_ratio,
      windowMs: () => Math.max(this.deps.config().rolling_window_ms, 2 * (this.deps.attemptMs?.() ?? 0)),
      minCalls: () => this.deps.config().volume_threshold,
      now: () => this.deps.clock.now(),
    });
    const onState = (to: BreakerState) => () => {
      metrics.breakerState.set({ node }, STATE_VALUE[to]);
      metrics.breakerTransitions.inc({ node, to });
      log.warn({ node, region: endpoint.region, breaker: to }, 'breaker state changed');
      if (to === 'closed') slow.reset();
      endpoint.changed(); // the routing table counts open breakers as unavailable
    };
    breaker.on('open', onState('open'));
    breaker.on('halfOpen', onState('half_open'));
    breaker.on('close', onState('closed'));
    metrics.breakerState.set({ node }, 0);
    entry = { breaker, slow };
    this.entries.set(node, entry);
    endpoint.breakerState = () => (breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed');
    return entry;
  }

  /** Forgets nodes removed from the topology. */
  retain(ids: Set<string>): void {
    for (const [id, e] of this.entries)
      if (!ids.has(id)) {
        e.breaker.shutdown();
        this.entries.delete(id);
      }
  }

  /** Stops every breaker's timers; idempotent. */
  close(): void {
    for (const e of this.entries.values()) e.breaker.shutdown();
    this.entries.clear();
  }
}

/**
 * @example
 * const layer = breakerLayer(breakers, { config: () => cfg.breaker, clock });
 */
export function breakerLayer(
  breakers: Breakers,
  opts: {
    config: () => BreakerConfig;
    clock: Clock;
    /** Median service latency of the pool now: "expected" is never less than 3× it. */
    peerLatencyMs?: () => number;
  },
): Layer {
  const expected = (textLength: number) => {
    const cfg = opts.config();
    return Math.max(expectedCallMs(textLength, cfg.slow_call_base_ms, cfg.slow_call_per_char_ms), 3 * (opts.peerLatencyMs?.() ?? 0));
  };
  return (inner) =>
    async function breakerLayer(req) {
      const endpoint = req.endpoint;
      if (!endpoint) return inner(req);
      const { breaker, slow } = breakers.for(endpoint);
      const started = opts.clock.now();
      try {
        const res = await breaker.fire(inner, req);
        // Time spent waiting for a slot (node-reported) is load, not a sick node: judge the rest.
        const queueMs = Number(res.headers['x-queue-ms']) || 0;
        const tooSlow = opts.clock.now() - started - queueMs > expected(req.textLength);
        if (slow.record(tooSlow) && !breaker.opened) {
          breaker.open();
          slow.reset();
        }
        return res;
      } catch (err) {
        const outcome = classify(err);
        // A timed-out call is also a slow one.
        if (outcome === 'failure') slow.record(opts.clock.now() - started > expected(req.textLength));
        throw fromBreakerError(err, { node: endpoint.id, region: endpoint.region }) ?? err;
      }
    };
}
