/**
 * Builds and wires the gateway: pools, endpoint state, health checks, breakers, the layer stack,
 * the request path and the Hono app. Returns `{ app, close, reload… }`; whoever calls
 * `createGateway` owns it and must `close()` it (or `await using`).
 * @module
 */
import type { RequestListener } from 'node:http';
import type { Hono } from 'hono';
import { createCanary } from './canary/canary.ts';
import type { Config, ModelConfig } from './config/schema.ts';
import { ConfigError, loadConfigFile, parseConfigText } from './config/load.ts';
import { createEdge } from './http/edge.ts';
import { createExposure } from './http/exposure.ts';
import { routeSink, routeTable, type Route } from './http/routes.ts';
import { p2c } from './layers/balance/p2c.ts';
import type { Balancer } from './layers/balance/balancer.ts';
import { Breakers } from './layers/breaker/breaker.ts';
import { RetryBudget } from './layers/retry/retry-budget.ts';
import { createStack } from './layers/stack.ts';
import type { Service } from './upstream/service.ts';
import { systemClock, type Clock } from './lifecycle/clock.ts';
import { shutdownSequence, waitForDrain } from './lifecycle/shutdown.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, registerSharedStateMetrics, type GatewayMetrics } from './observability/metrics.ts';
import { KeyTable } from './request-path/admit/auth.ts';
import { ConcurrencyLimiter } from './request-path/admit/load-shed.ts';
import { TenantRateLimiter, type RateLimiter } from './request-path/admit/rate-limit.ts';
import { SharedState } from './shared-state/redis-connection.ts';
import { SharedRateLimiter } from './shared-state/shared-rate-limiter.ts';
import { TenantUploads } from './request-path/admit/uploads.ts';
import { createRequestPath } from './request-path/index.ts';
import { Latches } from './request-path/plan/hysteresis.ts';
import { nullShadow, type ShadowHook } from './request-path/shadow/shadow.ts';
import { BodyPool } from './upstream/body-pool.ts';
import { callNode } from './upstream/call-node.ts';
import { EndpointSet } from './upstream/endpoints.ts';
import { HealthChecker } from './upstream/health/checker.ts';
import { OutlierDetector } from './upstream/outlier-detection.ts';
import { Pools } from './upstream/pools.ts';
import { createJobService } from './jobs/job-service.ts';
import { RedisJobStore } from './shared-state/redis-job-store.ts';
import { ResponseCache } from './cache/response-cache.ts';
import { mountPresynth } from './jobs/presynth.ts';
import { streamMetrics } from './stream/stream-metrics.ts';

export interface GatewayOptions {
  clock?: Clock;
  logger?: Logger;
  balancer?: Balancer;
  /** The shadow seam (request-path/shadow/shadow.ts); the canary's mirror by default. */
  shadow?: ShadowHook;
  /** `--region` override kept across reloads. */
  region?: string;
  /** Longest wait for in-flight requests on close. */
  drainMs?: number;
  /** Opens the pages config `exposure` marks `token` (env VOXGATE_ADMIN_TOKEN via config/load.ts). */
  adminToken?: string;
}

export interface ReloadResult {
  ok: boolean;
  error?: string;
}

export interface Gateway {
  app: Hono;
  config(): Config;
  /** Resolves once the first health sweep finished. */
  ready: Promise<void>;
  /** The Node request listener to serve (http/edge.ts): synthesis without Hono, the rest through `app`. */
  listener: RequestListener;
  /** The route table `app` and `listener` are built from (http/routes.ts). */
  routes: readonly Route[];
  endpoints: EndpointSet;
  metrics: GatewayMetrics;
  log: Logger;
  /** The Redis shared with other replicas (`shared_state`), owned by this gateway; undefined: embedded state. */
  shared: SharedState | undefined;
  /** Swaps the shadow hook. */
  setShadow(hook: ShadowHook): void;
  /** Applies a new config; a config that fails validation is refused and the old one stays. */
  reload(next: Config | string): ReloadResult;
  reloadFile(path: string): ReloadResult;
  draining(): boolean;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function modelMap(config: Config): ReadonlyMap<string, ModelConfig> {
  return new Map(config.models.map((m) => [m.id, m]));
}

/**
 * @example
 * const gw = createGateway(loadConfigFile('config/local.yaml'));
 * createServer(gw.listener).listen(8080);
 * process.on('SIGTERM', () => void gw.close());
 */
export function createGateway(initial: Config, options: GatewayOptions = {}): Gateway {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger();
  const metrics = createMetrics({ defaultMetrics: true, inFlight: () => concurrency.inFlight() });
  let config = initial;
  let models = modelMap(config);
  let keys = new KeyTable(config.keys);
  let shadow: ShadowHook = options.shadow ?? nullShadow;
  let draining = false;

  // One connection per gateway when replicas share state; config reloads keep it (a new Redis needs a restart).
  const shared = config.shared_state
    ? new SharedState({
        url: config.shared_state.redis_url,
        prefix: config.shared_state.prefix,
        commandTimeoutMs: config.shared_state.command_timeout_ms,
        log,
        clock,
      })
    : undefined;
  const sharedLimiter = shared ? new SharedRateLimiter(shared, clock) : undefined;
  const rateLimiter: RateLimiter = sharedLimiter ?? new TenantRateLimiter(clock);
  if (shared && sharedLimiter) {
    const counters = sharedLimiter.counters;
    registerSharedStateMetrics(metrics.registry, {
      replicaId: shared.replicaId,
      up: () => shared.up,
      errors: () => shared.errors,
      replicas: () => shared.replicas,
      decisions: () => counters,
    });
  }

  const pools = new Pools({ connections: config.upstream.connections_per_node, connectTimeoutMs: config.timeouts.connect_ms });
  const endpoints = new EndpointSet(config.regions, clock);
  // Shadow mirroring to canaries and their judge/report; the mirror is the default hook.
  const canary = createCanary({ config: () => config, models: () => models, endpoints, clock, log, metrics, shared });
  if (!options.shadow) shadow = canary.mirror;
  const health = new HealthChecker({ endpoints, pools, clock, log, metrics, health: () => config.health, saturation: () => config.saturation });
  const breakers = new Breakers({ config: () => config.breaker, clock, log, metrics, attemptMs: () => config.timeouts.attempt_ms });
  for (const e of endpoints.all()) breakers.for(e);
  const outliers = new OutlierDetector({
    endpoints,
    clock,
    log,
    metrics,
    config: () => config.outlier_detection,
    maxRetryAfterMs: () => config.retry.max_retry_after_ms,
  });
  const concurrency = new ConcurrencyLimiter(() => config.admission.max_concurrency);
  const budget = new RetryBudget({
    budgetPercent: () => config.retry.budget_percent,
    minRetryConcurrency: () => config.retry.min_retry_concurrency,
    activeRequests: () => concurrency.inFlight(),
    minRetriesPerSecond: () => config.retry.min_retries_per_second,
    maxConcurrency: () => config.admission.max_concurrency,
    room: (model) => endpoints.room(model),
    now: () => clock.now(),
  });

  // Buffered bodies in flight at c=128 are ~10 MB; what comes back beyond 16 MB is left to the GC.
  const bodies = new BodyPool(16 * 2 ** 20);
  const service: Service = createStack({
    config: () => config,
    endpoints,
    balancer: options.balancer ?? p2c(),
    outliers,
    breakers,
    budget,
    clock,
    metrics,
  })(callNode({ pools, clock, bufferMaxBytes: () => config.upstream.buffer_max_bytes, bodies }));

  const latches = new Latches();
  // The audio cache (cache/response-cache.ts), only with a `cache` config section.
  const cache = config.cache ? new ResponseCache(() => config, endpoints) : undefined;
  const handle = createRequestPath({
    config: () => config,
    models: () => models,
    keys: () => keys,
    rateLimiter,
    concurrency,
    uploads: new TenantUploads(),
    retryBudget: budget,
    endpoints,
    latches,
    service,
    shadow: () => shadow,
    clock,
    log,
    metrics,
    draining: () => draining,
    bodies,
    cache: () => cache,
  });

  const exposure = createExposure(() => config, options.adminToken);
  // Features that only exist with their config section add their routes to the one table.
  const featureRoutes: Route[] = [];
  const sink = routeSink(featureRoutes);
  if (cache)
    mountPresynth(sink, {
      cache,
      service,
      config: () => config,
      models: () => models,
      keys: () => keys,
      endpoints,
      latches,
      clock,
      log,
      stream: streamMetrics(metrics.registry),
    });
  const jobs = createJobService(sink, {
    config: () => config,
    models: () => models,
    keys: () => keys,
    endpoints,
    latches,
    service,
    clock,
    log,
    registry: metrics.registry,
    sharedStore: shared ? (audioDir) => new RedisJobStore(shared, audioDir) : undefined,
  });
  const routes = [
    ...routeTable({ path: handle, config: () => config, endpoints, clock, metrics, draining: () => draining, canaryReport: () => canary.report(), exposure }),
    ...featureRoutes,
  ];
  const { app, listener } = createEdge(routes, { log, cors: () => config.cors });

  const ready = Promise.all([health.start(), shared?.ready()]).then(() => undefined);

  function refuse(err: unknown): ReloadResult {
    metrics.configReloads.inc({ result: 'refused' });
    const message = err instanceof ConfigError ? err.message : String((err as Error)?.message ?? err);
    log.error({ issues: (err as ConfigError).issues, err: message }, 'config reload refused; keeping the running config');
    return { ok: false, error: message };
  }

  function reload(next: Config | string): ReloadResult {
    let parsed: Config;
    try {
      parsed = typeof next === 'string' ? parseConfigText(next, { region: options.region }) : next;
    } catch (err) {
      return refuse(err);
    }
    config = parsed;
    models = modelMap(parsed);
    keys = new KeyTable(parsed.keys);
    for (const origin of endpoints.update(parsed.regions)) void pools.remove(origin);
    breakers.retain(new Set(endpoints.all().map((e) => e.id)));
    for (const e of endpoints.all()) breakers.for(e);
    metrics.configReloads.inc({ result: 'applied' });
    log.info({ regions: parsed.regions.length, nodes: endpoints.all().length, keys: parsed.keys.length }, 'config reloaded');
    return { ok: true };
  }

  const close = shutdownSequence(
    [
      { name: 'stop admitting', run: () => void (draining = true) },
      { name: 'drain', run: () => waitForDrain(() => concurrency.inFlight(), options.drainMs ?? 10_000, clock) },
      { name: 'jobs', run: () => jobs?.close() },
      { name: 'audio cache', run: () => cache?.close() },
      { name: 'health checks', run: () => health.close() },
      { name: 'breakers', run: () => breakers.close() },
      { name: 'shadow', run: () => shadow.close?.() },
      { name: 'canary', run: () => canary.close() },
      { name: 'pools', run: () => pools.close() },
      { name: 'shared state', run: () => shared?.close() },
    ],
    (name, err) => log.error({ step: name, err }, 'shutdown step failed'),
  );

  return {
    app,
    listener,
    routes,
    config: () => config,
    ready,
    endpoints,
    metrics,
    log,
    shared,
    setShadow: (hook) => void (shadow = hook),
    reload,
    reloadFile(path) {
      let parsed: Config;
      try {
        parsed = loadConfigFile(path, { region: options.region });
      } catch (err) {
        return refuse(err);
      }
      return reload(parsed);
    },
    draining: () => draining,
    close,
    [Symbol.asyncDispose]: close,
  };
}
