/**
 * The gateway's real layer stack (retry → attempt timeout → balance → breaker → undici pool per
 * node) over FrameNode servers, and a SegmentRun factory on top, for the stream unit tests.
 */
import { balance } from '../../../../gateway/src/layers/balance/balance.ts';
import { roundRobin } from '../../../../gateway/src/layers/balance/round-robin.ts';
import { Breakers, breakerLayer } from '../../../../gateway/src/layers/breaker/breaker.ts';
import { compose } from '../../../../gateway/src/layers/compose.ts';
import { retry } from '../../../../gateway/src/layers/retry/retry.ts';
import { RetryBudget } from '../../../../gateway/src/layers/retry/retry-budget.ts';
import { attemptTimeout } from '../../../../gateway/src/layers/timeout/attempt-timeout.ts';
import { TrySignal } from '../../../../gateway/src/core/try-signal.ts';
import { systemClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../../gateway/src/observability/metrics.ts';
import type { ModelConfig } from '../../../../gateway/src/config/schema.ts';
import { SegmentRun, type RunOptions, type SegmentSpec } from '../../../../gateway/src/stream/segment-run.ts';
import { streamMetrics } from '../../../../gateway/src/stream/stream-metrics.ts';
import { BodyPool } from '../../../../gateway/src/upstream/body-pool.ts';
import { callNode } from '../../../../gateway/src/upstream/call-node.ts';
import { EndpointSet } from '../../../../gateway/src/upstream/endpoints.ts';
import { OutlierDetector } from '../../../../gateway/src/upstream/outlier-detection.ts';
import { Pools } from '../../../../gateway/src/upstream/pools.ts';
import { FrameNode } from './frame-node.ts';

export const log = createLogger({ level: 'silent' });

export function model(id: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { id, role: 'primary', engine: 'sim', pack: id, languages: ['en'], voices: ['v'], ...extra } as ModelConfig;
}

export interface StackSetup {
  nodes: FrameNode[];
  run(
    segments: SegmentSpec[],
    opts?: Partial<RunOptions> & { parallel?: number; deadlineMs?: number; seed?: number },
  ): { run: SegmentRun; deadline: TrySignal };
  metrics: ReturnType<typeof createMetrics>;
  endpoints: EndpointSet;
  close(): Promise<void>;
}

/** `layout`: node ids per model, e.g. { m: ['a', 'b'], f: ['c'] }. */
export async function startStack(layout: Record<string, string[]>, attemptMs = 1000): Promise<StackSetup> {
  const ids = [...new Set(Object.values(layout).flat())];
  const nodes = await Promise.all(ids.map((id) => FrameNode.start(id)));
  const metrics = createMetrics();
  const regions = [
    { name: 'r0', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: Object.keys(layout).filter((m) => layout[m]!.includes(n.id)) })) },
  ];
  const endpoints = new EndpointSet(regions, systemClock);
  const breakerCfg = {
    error_threshold_percentage: 50,
    volume_threshold: 100,
    reset_timeout_ms: 200,
    rolling_window_ms: 10_000,
    slow_call_ratio: 1,
    slow_call_base_ms: 10_000,
    slow_call_per_char_ms: 0,
  };
  const breakers = new Breakers({ config: () => breakerCfg, clock: systemClock, log, metrics });
  const outliers = new OutlierDetector({
    endpoints,
    clock: systemClock,
    log,
    metrics,
    config: () => ({ consecutive_failures: 100, consecutive_connect_failures: 100, base_ejection_ms: 1000, max_ejection_ms: 10_000, max_ejection_percent: 50 }),
    maxRetryAfterMs: () => 1000,
  });
  const budget = new RetryBudget({
    budgetPercent: () => 100,
    minRetryConcurrency: () => 10,
    minRetriesPerSecond: () => 0,
    activeRequests: () => 1,
    maxConcurrency: () => 0,
    room: () => 0,
    now: () => systemClock.now(),
  });
  const pools = new Pools({ connections: 8, connectTimeoutMs: 300 });
  const service = compose(
    retry({ retry: () => ({ max_attempts: 3, backoff_base_ms: 1, backoff_max_ms: 2 }), budget, clock: systemClock, metrics, maxReselects: () => 10 }),
    attemptTimeout({ attemptMs: () => attemptMs, clock: systemClock }),
    balance({
      endpoints,
      balancer: roundRobin(),
      outliers,
      clock: systemClock,
      metrics,
      priority: () => ({ overprovisioningFactor: 1.4, panicThresholdPercent: 0 }),
      capacityWaitMs: () => 50,
      attemptMs: () => attemptMs,
    }),
    breakerLayer(breakers, { config: () => breakerCfg, clock: systemClock }),
  )(callNode({ pools, clock: systemClock, bufferMaxBytes: () => 65536, bodies: new BodyPool(2 ** 20) }));
  const deadlines: TrySignal[] = [];
  return {
    nodes,
    metrics,
    endpoints,
    run(segments, opts = {}) {
      const deadline = new TrySignal();
      deadlines.push(deadline);
      const deadlineMs = opts.deadlineMs ?? 10_000;
      const run = new SegmentRun(
        { traceId: 't', segments, regions: ['r0'], seed: opts.seed ?? 42, parallel: opts.parallel ?? 2, deadlineAt: Date.now() + deadlineMs, deadline },
        {
          service,
          clock: systemClock,
          log,
          metrics: streamMetrics(metrics.registry),
          gapMs: () => attemptMs,
          maxBufferedBytes: 64 * 1024,
          readerStallMs: 2_000,
          readerMinSpeed: 0.5,
          maxResumes: 3,
          resumeMode: () => 'hold_segment',
          ...opts,
        },
      );
      return { run, deadline };
    },
    async close() {
      breakers.close();
      await pools.destroy();
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}

/** Drains a run into one PCM buffer per sample rate run, with its events. */
export async function collect(run: SegmentRun, delayPerChunkMs = 0): Promise<{ pcm: Buffer; switches: string[] }> {
  const parts: Buffer[] = [];
  const switches: string[] = [];
  for await (const ev of run) {
    if (ev.kind === 'audio') parts.push(ev.pcm);
    else switches.push(`${ev.segment}:${ev.from}->${ev.to}`);
    if (delayPerChunkMs > 0) await new Promise((r) => setTimeout(r, delayPerChunkMs));
  }
  return { pcm: Buffer.concat(parts), switches };
}
