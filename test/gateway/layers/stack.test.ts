/**
 * The layer stack against fake upstream services (the real-process behaviour is in
 * test/scenarios): createStack, the gateway's own retry → attempt timeout → balance → breaker, over a fake node.
 * Time is a ManualClock driven by `drive`: timeouts, backoff and slow calls are exact, not waits
 * on a loaded machine. Only opossum's reset timer is its own (real) one.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../gateway/src/errors/gateway-error.ts';
import { roundRobin } from '../../../gateway/src/layers/balance/round-robin.ts';
import { Breakers } from '../../../gateway/src/layers/breaker/breaker.ts';
import { RetryBudget } from '../../../gateway/src/layers/retry/retry-budget.ts';
import { createStack, type StackConfig } from '../../../gateway/src/layers/stack.ts';
import type { Service, UpstreamRequest } from '../../../gateway/src/upstream/service.ts';
import { ManualClock } from '../../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../gateway/src/observability/metrics.ts';
import { EndpointSet } from '../../../gateway/src/upstream/endpoints.ts';
import { OutlierDetector } from '../../../gateway/src/upstream/outlier-detection.ts';

const log = createLogger({ level: 'silent' });

/** Moves the manual clock 1 ms at a time (letting promise callbacks run) until `p` settles. */
async function drive<T>(clock: ManualClock, p: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let t = 0; !done && t < limitMs; t++) await clock.tick(1);
  return watched;
}

function setup(opts: { nodes?: number; regions?: number; attemptMs?: number; active?: () => number; breaker?: Partial<{ volume_threshold: number }> } = {}) {
  const metrics = createMetrics();
  const regions = Array.from({ length: opts.regions ?? 1 }, (_, r) => ({
    name: `r${r}`,
    priority: r,
    nodes: Array.from({ length: opts.nodes ?? 3 }, (_, i) => ({ id: `r${r}n${i}`, url: `http://127.0.0.1:1/r${r}n${i}`, models: ['m'] })),
  }));
  const clock = new ManualClock();
  const endpoints = new EndpointSet(regions, clock);
  const breakerCfg = {
    error_threshold_percentage: 50,
    volume_threshold: opts.breaker?.volume_threshold ?? 4,
    reset_timeout_ms: 200,
    rolling_window_ms: 10_000,
    slow_call_ratio: 0.5,
    slow_call_base_ms: 1000,
    slow_call_per_char_ms: 0,
  };
  const breakers = new Breakers({ config: () => breakerCfg, clock, log, metrics });
  const outliers = new OutlierDetector({
    endpoints,
    clock,
    log,
    metrics,
    config: () => ({ consecutive_failures: 3, consecutive_connect_failures: 1, base_ejection_ms: 1000, max_ejection_ms: 10_000, max_ejection_percent: 50 }),
    maxRetryAfterMs: () => 1000,
  });
  // No room and no time deposit: these tests pin the Envoy concurrency limit and the reserve of 3.
  const budget = new RetryBudget({
    budgetPercent: () => 20,
    minRetryConcurrency: () => 3,
    minRetriesPerSecond: () => 0,
    activeRequests: opts.active ?? (() => 1),
    maxConcurrency: () => 0,
    room: () => 0,
    now: () => clock.now(),
  });
  const calls: string[] = [];
  let behaviour: (node: string, req: UpstreamRequest) => Promise<void> = async () => undefined;
  const fake: Service = async (req) => {
    calls.push(req.endpoint!.id);
    await behaviour(req.endpoint!.id, req);
    return { status: 200, headers: {}, body: Buffer.from('ok'), contentLength: 2, node: req.endpoint!.id, region: req.endpoint!.region };
  };
  const stackConfig: StackConfig = {
    retry: { max_attempts: 4, backoff_base_ms: 1, backoff_max_ms: 2 },
    timeouts: { attempt_ms: opts.attemptMs ?? 200, attempt_per_char_ms: 0, capacity_wait_ms: 100 },
    breaker: breakerCfg,
    routing: { overprovisioning_factor: 1.4, panic_threshold_percent: 50 },
  };
  const service = createStack({ config: () => stackConfig, endpoints, balancer: roundRobin(), outliers, breakers, budget, clock, metrics })(fake);
  /** Starts a request with its own deadline on the manual clock; `request` also drives the clock until it settles. */
  const start = (deadlineMs = 2000): Promise<unknown> => {
    const deadline = clock.timeoutSignal(deadlineMs, () => new GatewayError('VOX_ERR_DEADLINE_EXCEEDED'));
    return service({
      traceId: 't',
      body: Buffer.from('{}'),
      route: { model: 'm', regions: regions.map((r) => r.name) },
      textLength: 10,
      deadlineAt: clock.now() + deadlineMs,
      deadline,
      signal: deadline,
      attempt: 0,
      tried: new Set(),
      attempts: [],
    }).finally(() => deadline.dispose());
  };
  const request = (deadlineMs = 2000): Promise<unknown> => drive(clock, start(deadlineMs));
  return { clock, endpoints, breakers, calls, metrics, setBehaviour: (b: typeof behaviour) => (behaviour = b), start, request, budget };
}

const fail = (code: ConstructorParameters<typeof GatewayError>[0]) => async () => {
  throw new GatewayError(code);
};

describe('layer stack', () => {
  it('retries a failed node on another node and succeeds', async () => {
    const s = setup();
    s.setBehaviour(async (node) => {
      if (node === 'r0n0') throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE');
    });
    const res = (await s.request()) as { node: string };
    expect(res.node).not.toBe('r0n0');
    expect(s.calls[0]).toBe('r0n0');
    expect(s.calls.length).toBe(2);
  });

  it('never retries a 4xx from the node', async () => {
    const s = setup();
    s.setBehaviour(fail('VOX_ERR_UPSTREAM_REJECTED'));
    await expect(s.request()).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_REJECTED' });
    expect(s.calls.length).toBe(1);
  });

  it('a per-try timeout moves on to another node within the attempt budget', async () => {
    const s = setup({ attemptMs: 100 });
    s.setBehaviour((node, req) =>
      node === 'r0n0' ? new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason))) : Promise.resolve(),
    );
    const t0 = s.clock.now();
    const res = (await s.request()) as { node: string };
    expect(res.node).not.toBe('r0n0');
    // the 100 ms per-try timeout, then a backoff of at most 2 ms
    expect(s.clock.now() - t0).toBeGreaterThanOrEqual(100);
    expect(s.clock.now() - t0).toBeLessThanOrEqual(104);
  });

  it('a try sent into a queue gets the estimated wait on top of its per-try timeout, and no more', async () => {
    const s = setup({ nodes: 1, attemptMs: 100 });
    // The node reports one request running and one queued in its only slot, at 60 ms each:
    // ~120 ms of queue ahead, so this try may take 100 + 100 (the allowance is capped at one per-try timeout).
    s.endpoints.get('r0n0')!.load = { ready: true, draining: false, slots: 1, inflight: 1, queueDepth: 1, queueLimit: 8, latencyEwmaMs: 60, at: s.clock.now() };
    s.setBehaviour(() => s.clock.sleep(150));
    expect(((await s.request()) as { node: string }).node).toBe('r0n0');
    s.endpoints.get('r0n0')!.latencyEwmaMs = 0; // forget the 150 ms just measured: same queue estimate again
    s.setBehaviour((_n, req) => new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason))));
    const t0 = s.clock.now();
    await expect(s.request()).rejects.toMatchObject({ status: 503 });
    // 100 ms per try + 100 ms of queue allowance, then nothing left to try
    expect(s.clock.now() - t0).toBe(200);
  });

  it('stops at max_attempts and answers upstream_unavailable', async () => {
    const s = setup({ nodes: 6 });
    s.setBehaviour(fail('VOX_ERR_UPSTREAM_FAILURE'));
    await expect(s.request()).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_UNAVAILABLE', status: 503 });
    expect(s.calls.length).toBe(4);
  });

  it('refused connections reselect another node without spending the retry budget', async () => {
    const s = setup({ nodes: 2, regions: 2 });
    s.setBehaviour(async (node) => {
      if (node.startsWith('r0')) throw new GatewayError('VOX_ERR_UPSTREAM_CONNECT');
    });
    const held = [s.budget.tryAcquire('m'), s.budget.tryAcquire('m'), s.budget.tryAcquire('m')];
    expect(held.every(Boolean)).toBe(true); // budget fully used by others
    const res = (await s.request()) as { region: string };
    expect(res.region).toBe('r1');
    // the refusing node is marked unhealthy at once: no later request waits for a health check
    const refused = s.endpoints.inRegion('r0').filter((e) => s.calls.includes(e.id));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((e) => !e.healthy)).toBe(true);
  });

  it('the retry budget stops retries when it is spent', async () => {
    const s = setup();
    s.setBehaviour(fail('VOX_ERR_UPSTREAM_FAILURE'));
    const held = [s.budget.tryAcquire('m'), s.budget.tryAcquire('m'), s.budget.tryAcquire('m')];
    await expect(s.request()).rejects.toMatchObject({ code: 'VOX_ERR_UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/budget/) });
    expect(s.calls.length).toBe(1);
    held.forEach((r) => r!());
  });

  it('never goes past the deadline', async () => {
    const s = setup({ attemptMs: 1000 });
    s.setBehaviour((_n, req) => new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason))));
    const t0 = s.clock.now();
    await expect(s.request(150)).rejects.toMatchObject({ code: 'VOX_ERR_DEADLINE_EXCEEDED' });
    expect(s.clock.now() - t0).toBe(150);
  });

  it('a node failing every call trips its breaker; an open breaker gets no traffic until a half-open probe succeeds', async () => {
    const s = setup({ nodes: 2, breaker: { volume_threshold: 2 } });
    let broken = true;
    s.setBehaviour(async (node) => {
      if (node === 'r0n0' && broken) throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE');
    });
    for (let i = 0; i < 10; i++) await s.request();
    const n0 = s.endpoints.get('r0n0')!;
    expect(n0.breakerState()).toBe('open');
    const before = s.calls.filter((c) => c === 'r0n0').length;
    for (let i = 0; i < 5; i++) await s.request();
    expect(s.calls.filter((c) => c === 'r0n0').length).toBe(before);
    broken = false;
    n0.ejectedUntil = 0;
    // reset_timeout_ms 200 → half-open: opossum runs this timer itself, on real time
    await new Promise((r) => setTimeout(r, 250));
    expect(n0.breakerState()).toBe('half_open');
    for (let i = 0; i < 4; i++) await s.request();
    expect(n0.breakerState()).toBe('closed');
    s.breakers.close();
  });

  it('slow successes count like failures (slow-call ratio) and open the breaker', async () => {
    const s = setup({ nodes: 2, attemptMs: 5000, breaker: { volume_threshold: 3 } });
    // expected time = 1000 ms + 0/char; r0n0 takes 1100 ms
    s.setBehaviour((node) => s.clock.sleep(node === 'r0n0' ? 1100 : 1));
    await drive(s.clock, Promise.all(Array.from({ length: 6 }, () => s.start(5000))));
    expect(s.endpoints.get('r0n0')!.breakerState()).toBe('open');
    expect(s.endpoints.get('r0n1')!.breakerState()).toBe('closed');
    s.breakers.close();
  });
});
