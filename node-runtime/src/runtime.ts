/**
 * Builds and wires one node runtime: models, scheduler, metrics, logger and the Hono app.
 * The only place that knows how the parts fit; `main.ts` only adds argv, signals and a port.
 * @module
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { RuntimeConfig } from './config/schema.ts';
import { RuntimeError } from './errors/runtime-error.ts';
import { errorResponse } from './errors/to-response.ts';
import { createAdminHandlers } from './http/admin.ts';
import type { RuntimeEnv } from './http/context.ts';
import { traceIdFrom } from './http/context.ts';
import { createHealthHandlers } from './http/health.ts';
import { createSynthesizeHandler } from './http/synthesize.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { EventLoopMonitor } from './observability/event-loop.ts';
import { createRuntimeMetrics } from './observability/metrics.ts';
import { ModelRegistry } from './packs/registry.ts';
import { ClientGoneError } from './scheduler/deadline.ts';
import { Ewma } from './scheduler/ewma.ts';
import { Scheduler } from './scheduler/scheduler.ts';

export interface Runtime {
  app: Hono<RuntimeEnv>;
  registry: ModelRegistry;
  logger: Logger;
  /** Loads every pack, then listens. Resolves with the URL actually bound. */
  start(): Promise<{ url: string }>;
  /** Graceful: readiness off, drain within the bound, close the server, dispose engines. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * @example
 * const runtime = createRuntime(loadRuntimeConfig());
 * const { url } = await runtime.start();
 * process.once('SIGTERM', () => void runtime.close());
 */
export function createRuntime(config: Readonly<RuntimeConfig>, options: { logger?: Logger } = {}): Runtime {
  const logger = options.logger ?? createLogger({ level: config.log_level, nodeId: config.node_id, region: config.region });
  const metrics = createRuntimeMetrics();
  const scheduler = new Scheduler({ slots: config.slots, queueLimit: config.queue_limit });
  const rtf = new Ewma();
  const eventLoop = new EventLoopMonitor();
  const registry = new ModelRegistry({
    modelsDir: path.resolve(config.models_dir),
    only: config.models,
    execution: {
      providers: config.execution.providers,
      deviceId: config.execution.device_id,
      gpuMemLimitBytes: config.execution.gpu_mem_limit_mb * 1024 * 1024,
      arenaExtendStrategy: config.execution.arena_extend_strategy,
      intraOpThreads: config.execution.intra_op_threads,
    },
    concurrency: config.slots,
    logger,
    onReload: (result) => metrics.packReloads.inc({ result }),
  });

  let loaded = false;
  let draining = false;
  const isReady = (): boolean => loaded && !draining && registry.size > 0;
  const isDraining = (): boolean => draining;

  const app = new Hono<RuntimeEnv>();
  app.use(async function accessLog(c, next) {
    const started = performance.now();
    const traceId = traceIdFrom(c.req.header('traceparent'));
    c.set('traceId', traceId);
    c.set('log', {});
    await next();
    c.header('x-trace-id', traceId);
    if (c.req.path === '/healthz' || c.req.path === '/readyz' || c.req.path === '/v1/load' || c.req.path === '/metrics') return;
    const fields = c.get('log');
    if (c.req.path === '/v1/synthesize') metrics.requests.inc({ code: fields.error_code ?? 'ok', model: fields.model ?? 'none' });
    logger.info(
      { trace_id: traceId, method: c.req.method, path: c.req.path, status: c.res.status, cost_ms: Math.round(performance.now() - started), ...fields },
      'request completed',
    );
  });

  const health = createHealthHandlers({ nodeId: config.node_id, region: config.region, registry, scheduler, rtf, eventLoop, isReady, isDraining });
  const admin = createAdminHandlers({ adminToken: config.admin_token, registry });
  app.get('/healthz', health.healthz);
  app.get('/readyz', health.readyz);
  app.get('/v1/load', health.load);
  app.get('/metrics', async function metricsText(c) {
    metrics.queueDepth.set(scheduler.load().queue_depth);
    metrics.inflight.set(scheduler.load().inflight);
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  app.post(
    '/v1/synthesize',
    createSynthesizeHandler({
      nodeId: config.node_id,
      gpuId: config.execution.device_id,
      registry,
      scheduler,
      metrics,
      rtf,
      maxTextChars: config.max_text_chars,
      maxBodyBytes: config.max_body_bytes,
      defaultDeadlineMs: config.default_deadline_ms,
      isDraining,
    }),
  );
  app.post('/admin/models/reload', admin.reload);
  app.all('/v1/synthesize', () => {
    throw new RuntimeError('method_not_allowed', 'use POST');
  });
  app.notFound(() => {
    throw new RuntimeError('not_found', 'not found');
  });
  app.onError(function rescue(error, c) {
    const traceId = c.get('traceId') ?? traceIdFrom(undefined);
    const log = c.get('log') ?? {};
    if (error instanceof ClientGoneError) {
      log.error_code = error.code;
      log.client_gone = error.stage;
      metrics.clientGone.inc({ stage: error.stage });
      // Nobody is listening; the status only reaches the access log (info level, never error).
      return c.body(null, 499 as never);
    }
    const { status, body, headers, expected } = errorResponse(error, traceId);
    log.error_code = body.error.code;
    if (!expected) logger.error({ trace_id: traceId, err: error }, 'unexpected error');
    return c.json(body, status as never, headers);
  });

  let server: ServerType | undefined;
  let closing: Promise<void> | undefined;

  async function start(): Promise<{ url: string }> {
    const report = await registry.reload();
    loaded = true;
    if (registry.size === 0) logger.error({ refused: report.refused }, 'no model pack could be loaded; node stays unready');
    if (config.admin_token === undefined) logger.warn('no admin token (VOXGATE_ADMIN_TOKEN unset or empty): admin endpoints are disabled');
    const limits = config.server;
    server = await new Promise<ServerType>((resolve) => {
      const s = serve(
        {
          fetch: app.fetch,
          hostname: config.host,
          port: config.port,
          serverOptions: {
            headersTimeout: limits.headers_timeout_ms,
            requestTimeout: limits.request_timeout_ms,
            keepAliveTimeout: limits.keep_alive_timeout_ms,
            // Node checks the two timeouts on this interval (30 s by default), so a 10 s limit
            // would otherwise hold for up to 40 s.
            connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headers_timeout_ms / 4))),
          },
        },
        () => resolve(s),
      );
      (s as { maxConnections?: number }).maxConnections = limits.max_connections;
    });
    const address = server.address() as AddressInfo;
    const url = `http://${config.host}:${address.port}`;
    logger.info({ url, models: registry.describe().map((m) => `${m.name}@${m.version}`) }, 'listening');
    return { url };
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      draining = true;
      const deadline = performance.now() + config.drain_timeout_ms;
      while (!scheduler.idle() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        if ('closeAllConnections' in s) s.closeAllConnections();
      }
      await registry.close();
      eventLoop.close();
      logger.info({ drained: scheduler.idle() }, 'runtime closed');
    })();
    return closing;
  }

  return { app, registry, logger, start, close, [Symbol.asyncDispose]: close };
}
