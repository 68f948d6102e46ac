/**
 * The gateway's one layer stack, outermost first: retry → attempt timeout → balance → breaker
 * (one per endpoint) → the inner service (undici pool in production, a fake node in tests).
 * gateway.ts and the layer tests both build it here, so the order exists once.
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { OutlierDetector } from '../upstream/outlier-detection.ts';
import type { Layer, UpstreamRequest } from '../upstream/service.ts';
import { balance } from './balance/balance.ts';
import type { Balancer } from './balance/balancer.ts';
import { breakerLayer, type Breakers } from './breaker/breaker.ts';
import { compose } from './compose.ts';
import { retry } from './retry/retry.ts';
import type { RetryBudget } from './retry/retry-budget.ts';
import { attemptTimeout } from './timeout/attempt-timeout.ts';

/** The config slices the stack reads, on every request (so a reload applies at once). */
export interface StackConfig {
  retry: Pick<Config['retry'], 'max_attempts' | 'backoff_base_ms' | 'backoff_max_ms'>;
  timeouts: Pick<Config['timeouts'], 'attempt_ms' | 'attempt_per_char_ms' | 'capacity_wait_ms'>;
  breaker: Config['breaker'];
  routing: Config['routing'];
}

export interface StackDeps {
  config: () => StackConfig;
  endpoints: EndpointSet;
  balancer: Balancer;
  outliers: OutlierDetector;
  breakers: Breakers;
  budget: RetryBudget;
  clock: Clock;
  metrics: GatewayMetrics;
}

/** The per-try timeout: longer texts get longer (attempt_ms + attempt_per_char_ms × chars). */
export function attemptMsFor(timeouts: StackConfig['timeouts'], req: { textLength: number }): number {
  return timeouts.attempt_ms + timeouts.attempt_per_char_ms * req.textLength;
}

/**
 * @example
 * const service = createStack(deps)(callNode({ pools, clock, bufferMaxBytes, bodies }));
 */
export function createStack(deps: StackDeps): Layer {
  const { config, endpoints, clock, metrics } = deps;
  const attemptMs = (req: UpstreamRequest) => attemptMsFor(config().timeouts, req);
  return compose(
    retry({ retry: () => config().retry, budget: deps.budget, clock, metrics, maxReselects: () => endpoints.all().length }),
    attemptTimeout({ attemptMs, clock }),
    balance({
      endpoints,
      balancer: deps.balancer,
      outliers: deps.outliers,
      clock,
      metrics,
      priority: () => ({
        overprovisioningFactor: config().routing.overprovisioning_factor,
        panicThresholdPercent: config().routing.panic_threshold_percent,
      }),
      capacityWaitMs: () => config().timeouts.capacity_wait_ms,
      attemptMs,
    }),
    breakerLayer(deps.breakers, { config: () => config().breaker, clock, peerLatencyMs: () => endpoints.peerLatencyMs() }),
  );
}
