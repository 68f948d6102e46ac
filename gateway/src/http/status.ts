/**
 * `GET /v1/status` (shape fixed by the contract): this gateway's home region and, per region, its
 * health and every node's health, breaker state, gateway in-flight and reported queue depth.
 * @module
 */
import type { Clock } from '../lifecycle/clock.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';

/** `showUrls: false` leaves each node's `url` out: it is internal, shown only to the operator. */
export function statusBody(endpoints: EndpointSet, home: string, clock: Clock, showUrls = true) {
  const now = clock.now();
  return {
    region: home,
    regions: endpoints.regions().map((name) => {
      const nodes = endpoints.inRegion(name).map((e) => ({
        id: e.id,
        ...(showUrls ? { url: e.url } : {}),
        models: [...e.models],
        healthy: e.healthy && !e.isEjected(now),
        breaker: e.breakerState(),
        inflight: e.inflight,
        queue_depth: e.load?.queueDepth ?? 0,
        saturated: e.isSaturated(now),
        ejected: e.isEjected(now),
        latency_ewma_ms: Math.round(e.latencyMs() * 10) / 10,
      }));
      return { name, healthy: nodes.some((n) => n.healthy && n.breaker !== 'open'), nodes };
    }),
  };
}
