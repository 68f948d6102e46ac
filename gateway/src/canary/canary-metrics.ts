/**
 * The canary's Prometheus metrics, registered on the gateway's registry: shadow events by
 * canary (eligible, sampled, mirrored, drops, errors, compared), judge time, and the current
 * verdict as a gauge an alert can watch (1 promote, 0 hold, -1 rollback).
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createCanaryMetrics(registry: Registry) {
  const r = [registry];
  const beforeScrape: (() => void)[] = [];
  return {
    shadow: new Counter({
      name: 'voxgate_gateway_shadow_events_total',
      help: 'Shadow events per canary (eligible, sampled, mirrored, dropped_*, errors, compared, unjudged)',
      labelNames: ['canary', 'event'],
      registers: r,
      collect: () => {
        for (const f of beforeScrape) f();
      },
    }),
    /** Runs `f` before each scrape of the shadow counter: the canary service keeps its per-request counts as plain numbers until then. */
    beforeScrape: (f: () => void) => void beforeScrape.push(f),
    judgeSeconds: new Histogram({
      name: 'voxgate_gateway_canary_judge_seconds',
      help: 'Worker time to judge one pair',
      labelNames: ['canary'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: r,
    }),
    verdict: new Gauge({
      name: 'voxgate_gateway_canary_verdict',
      help: 'Current verdict per canary: 1 promote, 0 hold, -1 rollback',
      labelNames: ['canary'],
      registers: r,
    }),
  };
}

export type CanaryMetrics = ReturnType<typeof createCanaryMetrics>;
