/**
 * In-process micro-benchmarks of the gateway's own code as the topology grows (run in a child
 * process by scale.ts so nothing else shares its event loop):
 *
 *   routing: one routing decision = plan (`planRequest` over `poolView`, as the request path
 *            calls it) + the balance layer (`selectCandidates` + p2c pick + bookkeeping) with a
 *            stub upstream, for N nodes across 10 regions, all healthy with random load reports.
 *   health:  one health sweep (`HealthChecker.sweep`: GET /readyz + GET /v1/load per node through
 *            its undici pool) against fake upstreams; CPU of this process per sweep and per node.
 *
 * Argument: JSON `{ mode: 'routing', sizes }` or `{ mode: 'health', urls: string[][] }`.
 * Prints one line `SCALEJSON {...}`.
 * @module
 */
import { Writable } from 'node:stream';
import { ConfigSchema, type Config } from '../../gateway/src/config/schema.ts';
import { balance } from '../../gateway/src/layers/balance/balance.ts';
import { p2c } from '../../gateway/src/layers/balance/p2c.ts';
import type { Service, UpstreamRequest } from '../../gateway/src/upstream/service.ts';
import { systemClock } from '../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../gateway/src/observability/metrics.ts';
import { Latches } from '../../gateway/src/request-path/plan/hysteresis.ts';
import { planRequest } from '../../gateway/src/request-path/plan/plan.ts';
import { poolView } from '../../gateway/src/request-path/plan/pool-view.ts';
import { EndpointSet } from '../../gateway/src/upstream/endpoints.ts';
import { HealthChecker } from '../../gateway/src/upstream/health/checker.ts';
import { OutlierDetector } from '../../gateway/src/upstream/outlier-detection.ts';
import { Pools } from '../../gateway/src/upstream/pools.ts';
import { benchConfig } from './config.ts';

const REGIONS = 10;

function topology(urls: string[]): Config {
  const per = Math.ceil(urls.length / REGIONS);
  const regions = Array.from({ length: REGIONS }, (_, r) => ({ name: `r${r}`, urls: urls.slice(r * per, (r + 1) * per) })).filter((r) => r.urls.length > 0);
  return ConfigSchema.parse(benchConfig({ regions }, { storeDir: '/tmp' }));
}

const silent = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

async function routing(n: number, budgetMs: number) {
  const urls = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${20_000 + i}`);
  const config = topology(urls);
  const endpoints = new EndpointSet(config.regions, systemClock);
  const now0 = Date.now();
  for (const e of endpoints.all()) {
    e.probed = true;
    e.healthy = true;
    const inflight = Math.floor(Math.random() * 4);
    e.load = {
      ready: true,
      draining: false,
      slots: 4,
      inflight,
      queueDepth: Math.floor(Math.random() * 3),
      queueLimit: 16,
      latencyEwmaMs: 80 + Math.random() * 40,
      at: now0,
    };
    e.latencyEwmaMs = 80 + Math.random() * 40;
  }
  const metrics = createMetrics();
  const models = new Map(config.models.map((m) => [m.id, m]));
  const outliers = new OutlierDetector({
    endpoints,
    clock: systemClock,
    log: silent,
    metrics,
    config: () => config.outlier_detection,
    maxRetryAfterMs: () => 1000,
  });
  const body = Buffer.alloc(16);
  const stub: Service = async (req) => ({ status: 200, headers: {}, body, contentLength: body.length, node: req.endpoint!.id, region: req.endpoint!.region });
  const layer = balance({
    endpoints,
    balancer: p2c(),
    outliers,
    clock: systemClock,
    metrics,
    priority: () => ({ overprovisioningFactor: 1.4, panicThresholdPercent: 50 }),
    capacityWaitMs: () => 500,
  })(stub);
  const latches = new Latches();
  const input = { text: 'A sentence to route.', voice: undefined, format: 'wav' as const, speed: undefined, seed: undefined, role: undefined };
  const ac = new AbortController();
  let planNs = 0;
  let pickNs = 0;
  const one = async () => {
    const t0 = process.hrtime.bigint();
    const now = systemClock.now();
    const plan = planRequest({
      input,
      planName: 'pro',
      language: 'en',
      home: 'r0',
      regionOrder: (h) => endpoints.regionsFrom(h),
      config,
      models,
      view: (model) => poolView(endpoints, model, now),
      latches,
    });
    const t1 = process.hrtime.bigint();
    const req: UpstreamRequest = {
      traceId: 't',
      body,
      route: { model: plan.model.id, regions: plan.regions },
      textLength: input.text.length,
      deadlineAt: now + 10_000,
      deadline: ac.signal,
      signal: ac.signal,
      attempt: 0,
      tried: new Set(),
      attempts: [],
    };
    await layer(req);
    const t2 = process.hrtime.bigint();
    planNs += Number(t1 - t0);
    pickNs += Number(t2 - t1);
  };
  // Warm-up, then a time-bounded measurement.
  for (let i = 0; i < 2_000; i++) await one();
  planNs = 0;
  pickNs = 0;
  let count = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end && count < 2_000_000) {
    for (let i = 0; i < 100; i++) await one();
    count += 100;
  }
  return {
    nodes: n,
    regions: REGIONS,
    decisions: count,
    planUs: planNs / count / 1000,
    balanceUs: pickNs / count / 1000,
    totalUs: (planNs + pickNs) / count / 1000,
  };
}

async function health(urls: string[], sweeps: number) {
  const config = topology(urls);
  const endpoints = new EndpointSet(config.regions, systemClock);
  const pools = new Pools({ connections: 4, connectTimeoutMs: 1_000 });
  const checker = new HealthChecker({
    endpoints,
    pools,
    clock: systemClock,
    log: silent,
    metrics: createMetrics(),
    health: () => ({ ...config.health, timeout_ms: 5_000 }),
    saturation: () => config.saturation,
  });
  // First sweep opens the connections; it is reported apart.
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await checker.sweep();
  const firstCpu = process.cpuUsage(c0);
  const firstWall = performance.now() - w0;
  let cpuUs = 0;
  let wallMs = 0;
  for (let i = 0; i < sweeps; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const c = process.cpuUsage();
    const w = performance.now();
    await checker.sweep();
    const d = process.cpuUsage(c);
    wallMs += performance.now() - w;
    cpuUs += d.user + d.system;
  }
  const healthy = endpoints.all().filter((e) => e.healthy && e.load).length;
  await checker.close();
  await pools.destroy();
  const perSweepMs = cpuUs / sweeps / 1000;
  return {
    nodes: urls.length,
    healthy,
    sweeps,
    firstSweepCpuMs: (firstCpu.user + firstCpu.system) / 1000,
    firstSweepWallMs: firstWall,
    cpuMsPerSweep: perSweepMs,
    cpuUsPerNodeProbe: (perSweepMs * 1000) / urls.length,
    wallMsPerSweep: wallMs / sweeps,
    /** Share of one core spent on health checks at the configured interval. */
    coreShareAtInterval: perSweepMs / config.health.interval_ms,
    intervalMs: config.health.interval_ms,
  };
}

const arg = JSON.parse(process.argv[2] ?? '{}') as { mode: 'routing' | 'health'; sizes?: number[]; urls?: string[][]; budgetMs?: number; sweeps?: number };
const out: unknown[] = [];
if (arg.mode === 'routing') for (const n of arg.sizes ?? [10, 100, 1000]) out.push(await routing(n, arg.budgetMs ?? 800));
else for (const urls of arg.urls ?? []) out.push(await health(urls, arg.sweeps ?? 5));
process.stdout.write(`SCALEJSON ${JSON.stringify(out)}\n`);
process.exit(0);
