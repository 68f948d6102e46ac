/**
 * Builds the canary subsystem for a gateway: the service (judge, store, report), the mirror
 * (the gateway's shadow hook) and the HTTP routes. `gateway.ts` calls this once; the result owns
 * everything it created and `close()` stops the mirror first (no new pairs), then the service.
 * @module
 */
import type { Hono } from 'hono';
import type { Config, ModelConfig } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { createMirror, type Mirror } from './mirror/mirror.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import { createCanaryMetrics } from './canary-metrics.ts';
import { CanaryService, type Judge } from './canary-service.ts';
import { mountCanaryRoutes } from './report/routes.ts';

export interface CanaryOptions {
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  endpoints: EndpointSet;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  judgeImpl?: Judge;
}

export interface Canary {
  service: CanaryService;
  mirror: Mirror;
  mount(app: Hono): void;
  close(): Promise<void>;
}

/**
 * @example
 * const canary = createCanary({ config: () => config, models: () => models, endpoints, clock, log, metrics });
 * canary.mount(app);
 * gateway.setShadow(canary.mirror);
 */
export function createCanary(o: CanaryOptions): Canary {
  const service = new CanaryService({
    canaries: () => o.config().canaries,
    judge: () => o.config().canary_judge,
    clock: o.clock,
    log: o.log,
    metrics: createCanaryMetrics(o.metrics.registry),
    ...(o.judgeImpl ? { judgeImpl: o.judgeImpl } : {}),
  });
  const mirror = createMirror({
    canaries: () => o.config().canaries,
    models: o.models,
    endpoints: o.endpoints,
    home: () => o.config().region,
    clock: o.clock,
    log: o.log,
    sink: service,
    connectTimeoutMs: o.config().timeouts.connect_ms,
  });
  let closing: Promise<void> | undefined;
  return {
    service,
    mirror,
    mount: (app) => mountCanaryRoutes(app, () => service.report()),
    close() {
      closing ??= (async () => {
        await mirror.close();
        await service.close();
      })();
      return closing;
    },
  };
}
