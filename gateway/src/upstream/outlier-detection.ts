/**
 * Passive outlier detection (Envoy `OutlierDetection`): consecutive failures (default 5) eject a
 * node for `base_ejection_ms × ejection count` (capped), never more than `max_ejection_percent`
 * of a region (at least one node). A refused connection is a local-origin failure: by default it
 * takes the node out at once (marks it unhealthy until active checks pass again), so no later
 * request waits for a health check to notice a dead node. So is a connection that broke before
 * the node answered anything: that is what a node killed with requests in flight looks like, and
 * until its next refused connect it would otherwise keep drawing traffic (a resend after a
 * mid-body reset is not this: the node had answered). A full node (503 queue_full) is not an
 * outlier: it is marked saturated for its `Retry-After` (capped) instead.
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { toGatewayError } from '../errors/to-response.ts';
import { classify } from '../errors/classify.ts';
import type { Endpoint, EndpointSet } from './endpoints.ts';

export class OutlierDetector {
  constructor(
    private readonly deps: {
      endpoints: EndpointSet;
      clock: Clock;
      log: Logger;
      metrics: GatewayMetrics;
      config: () => Config['outlier_detection'];
      maxRetryAfterMs: () => number;
    },
  ) {}

  success(e: Endpoint): void {
    e.consecutiveFailures = 0;
    e.consecutiveConnectFailures = 0;
  }

  failure(e: Endpoint, err: unknown): void {
    const ge = toGatewayError(err);
    const now = this.deps.clock.now();
    if (ge.code === 'VOX_ERR_UPSTREAM_BUSY') {
      // Honour the node's Retry-After: no new requests to it until then (capped).
      const ms = Math.min(ge.retryAfterMs ?? 1000, this.deps.maxRetryAfterMs());
      e.saturatedUntil = Math.max(e.saturatedUntil, now + ms);
      return;
    }
    if (classify(ge) !== 'failure') return;
    const cfg = this.deps.config();
    if (ge.code === 'VOX_ERR_UPSTREAM_CONNECT' || (ge.code === 'VOX_ERR_UPSTREAM_RESET' && ge.upstream && ge.upstream.status === undefined)) {
      e.consecutiveConnectFailures += 1;
      if (e.consecutiveConnectFailures >= cfg.consecutive_connect_failures && e.healthy) {
        e.healthy = false;
        e.healthOk = 0;
        this.deps.log.warn({ node: e.id, region: e.region, code: ge.code }, 'node unreachable');
      }
      return;
    }
    e.consecutiveFailures += 1;
    if (e.consecutiveFailures >= cfg.consecutive_failures && !e.isEjected(now)) {
      const enforced = this.deps.endpoints.eject(e, cfg.base_ejection_ms, cfg.max_ejection_ms, cfg.max_ejection_percent);
      e.consecutiveFailures = 0;
      if (enforced) {
        this.deps.metrics.ejections.inc({ node: e.id });
        this.deps.log.warn({ node: e.id, region: e.region, ejections: e.ejections, until: e.ejectedUntil }, 'node ejected');
      }
    }
  }
}
