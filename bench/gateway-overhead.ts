/**
 * Standalone gateway figures (`npx tsx bench/gateway-overhead.ts`), each against a baseline
 * measured in the same run, written to bench/results/gateway-overhead.json:
 *
 * 1. Overhead: direct call to a node vs the same node through the gateway, p50/p99 at
 *    concurrency 1 and 32 (two alternating repetitions each).
 * 2. Failover: a whole region SIGKILLed under load; client errors, time until the requests caught
 *    in flight were answered elsewhere and new ones went straight to the other region, p99 then.
 * 3. 3× overload: open-loop arrivals at three times the measured capacity; statuses, 5xx that are
 *    not a 503 with Retry-After (the goal is 0), admitted p99.
 *
 * Nodes are real node-runtime processes serving the simulator packs (test/fixtures/models/sim: a
 * timed delay, no CPU), so the figures measure the gateway rather than synthesis CPU on this
 * shared machine. Everything runs on 127.0.0.1 and is stopped at the end (test/harness).
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { baseConfig, call, countBy, percentile, runLoad, startCluster, type CallResult, type Cluster } from '../test/harness/index.ts';

const SIM = 'test/fixtures/models/sim';
const simModels = {
  models: [
    { id: 'sim-hd', role: 'primary', engine: 'sim', pack: 'sim-primary', languages: ['en'], voices: ['alto', 'tenor'] },
    { id: 'sim-fast', role: 'fallback', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'] },
  ],
  plans: Object.fromEntries(
    Object.entries(baseConfig()['plans'] as Record<string, Record<string, unknown>>).map(([k, p]) => [k, { ...p, primary: 'sim-fast', fallback: 'sim-fast' }]),
  ),
};
const SHORT = 'Hi.'; // sim-fallback: 200 ms of audio × rtf 0.25 ≈ 60 ms
const LONGER = 'Hello there, how are you today?'; // ≈ 620 ms of audio ≈ 165 ms
const round = (x: number) => Math.round(x * 100) / 100;
const stats = (rs: CallResult[]) => {
  const ok = rs.filter((r) => r.status === 200).map((r) => r.ms);
  return { n: rs.length, ok: ok.length, p50_ms: round(percentile(ok, 50)), p99_ms: round(percentile(ok, 99)) };
};
const clusters: Cluster[] = [];
const stopAll = () => Promise.all(clusters.map((c) => c.close()));
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

async function overhead() {
  const c = await startCluster({
    regions: [{ name: 'north', nodes: [{ slots: 64, queue: 64, modelsDir: SIM }] }],
    gateway: { ...simModels, admission: { max_concurrency: 128 } },
  });
  clusters.push(c);
  const node = c.nodes[0]!;
  const direct = () => call(node.directUrl, undefined, { text: SHORT, model: 'sim-fallback' });
  const viaGateway = () => call(c.gateway.url, 'demo-enterprise', { text: SHORT });
  await runLoad({ concurrency: 8, total: 100, fn: viaGateway }); // warm-up (JIT, pools)
  await runLoad({ concurrency: 8, total: 100, fn: direct });
  const out: Record<string, unknown> = {};
  for (const conc of [1, 32]) {
    const total = conc === 1 ? 150 : 640;
    const d: CallResult[] = [];
    const g: CallResult[] = [];
    for (let rep = 0; rep < 2; rep++) {
      const order = rep === 0 ? [['direct', direct], ['gateway', viaGateway]] as const : [['gateway', viaGateway], ['direct', direct]] as const;
      for (const [name, fn] of order) (name === 'direct' ? d : g).push(...(await runLoad({ concurrency: conc, total, fn })));
    }
    const sd = stats(d);
    const sg = stats(g);
    out[`c${conc}`] = {
      direct: sd,
      gateway: sg,
      delta_p50_ms: round(sg.p50_ms - sd.p50_ms),
      delta_p99_ms: round(sg.p99_ms - sd.p99_ms),
      ratio_p50: round(sg.p50_ms / sd.p50_ms),
      ratio_p99: round(sg.p99_ms / sd.p99_ms),
      gateway_errors: g.length - sg.ok,
    };
  }
  await c.close();
  return out;
}

async function failover() {
  const c = await startCluster({
    regions: [
      { name: 'north', nodes: 2 },
      { name: 'south', nodes: 2 },
    ],
    node: { slots: 4, queue: 16, modelsDir: SIM },
    gateway: simModels,
  });
  clusters.push(c);
  const fn = () => call(c.gateway.url, 'demo-pro', { text: SHORT });
  await runLoad({ concurrency: 3, total: 60, fn });
  let killedAt = 0;
  const killer = new Promise<void>((resolve) =>
    setTimeout(() => {
      killedAt = Date.now();
      void Promise.all(c.region('north').map((n) => n.kill())).then(() => resolve());
    }, 1_500),
  );
  // Concurrency 3 = the retry budget's reserve: the requests caught in flight can all be retried.
  const results = await runLoad({ concurrency: 3, durationMs: 4_000, fn });
  await killer;
  const steady = results.filter((r) => r.end < killedAt);
  const caught = results.filter((r) => r.start < killedAt && r.end >= killedAt);
  const after = results.filter((r) => r.start >= killedAt);
  const firstDirect = Math.min(...after.filter((r) => r.headers['x-attempts'] === '1').map((r) => r.start));
  const switchWindow = results.filter((r) => r.end >= killedAt && r.start < killedAt + 1_000);
  const out = {
    requests: results.length,
    client_errors: results.filter((r) => r.status !== 200).length,
    caught_in_flight: caught.length,
    failover_ms: Math.max(firstDirect, ...caught.map((r) => r.end)) - killedAt,
    served_after_kill_by: countBy(after, (r) => r.headers['x-region'] ?? String(r.status)),
    steady_p99_ms: round(percentile(steady.map((r) => r.ms), 99)),
    switch_p99_ms: round(percentile(switchWindow.map((r) => r.ms), 99)),
    switch_p99_ratio: 0,
  };
  out.switch_p99_ratio = round(out.switch_p99_ms / out.steady_p99_ms);
  await c.close();
  return out;
}

async function overload() {
  const c = await startCluster({
    regions: [{ name: 'north', nodes: 2 }],
    node: { slots: 2, queue: 4, modelsDir: SIM },
    gateway: { ...simModels, admission: { max_concurrency: 12 } },
  });
  clusters.push(c);
  const fn = () => call(c.gateway.url, 'demo-enterprise', { text: LONGER });
  const warm = await runLoad({ concurrency: 4, total: 40, fn });
  const serviceMs = warm.reduce((t, r) => t + r.ms, 0) / warm.length;
  const capacity = 4 / (serviceMs / 1000);
  const rps = capacity * 3;
  const n = Math.round(rps * 4);
  const calls: Promise<CallResult>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rps - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    calls.push(fn());
  }
  const results = await Promise.all(calls);
  const bad5xx = results.filter((r) => r.status === 0 || (r.status >= 500 && !(r.status === 503 && r.headers['retry-after'])));
  const shed = results.filter((r) => r.status === 429 || r.status === 503);
  const out = {
    capacity_rps: round(capacity),
    offered_rps: round(rps),
    offered: results.length,
    statuses: countBy(results, (r) => String(r.status)),
    five_xx_without_retry_after: bad5xx.length,
    shed_with_retry_after: shed.filter((r) => r.headers['retry-after']).length,
    shed_p99_ms: round(percentile(shed.map((r) => r.ms), 99)),
    admitted: stats(results),
  };
  await c.close();
  return out;
}

try {
  const started = Date.now();
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg_at_start: loadavg().map(round) },
    upstream: 'node-runtime processes serving the sim packs (timed delay, no CPU)',
    overhead: await overhead(),
    failover: await failover(),
    overload_3x: await overload(),
    duration_s: 0,
  };
  result.duration_s = Math.round((Date.now() - started) / 1000);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/gateway-overhead.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  const o = result.overhead as Record<string, { delta_p50_ms: number; delta_p99_ms: number; ratio_p50: number; ratio_p99: number; direct: { p50_ms: number }; gateway: { p50_ms: number } }>;
  for (const k of ['c1', 'c32']) {
    const x = o[k]!;
    console.log(`overhead ${k}: gateway p50 ${x.gateway.p50_ms} ms vs direct ${x.direct.p50_ms} ms (Δp50 +${x.delta_p50_ms} ms, ×${x.ratio_p50}); Δp99 +${x.delta_p99_ms} ms (×${x.ratio_p99})`);
  }
  console.log(`failover: ${result.failover.client_errors} client errors of ${result.failover.requests}; moved in ${result.failover.failover_ms} ms; p99 during the switch ×${result.failover.switch_p99_ratio} steady`);
  console.log(`overload 3×: ${JSON.stringify(result.overload_3x.statuses)}; 5xx without Retry-After: ${result.overload_3x.five_xx_without_retry_after}; admitted p99 ${result.overload_3x.admitted.p99_ms} ms`);
  console.log('wrote bench/results/gateway-overhead.json');
} finally {
  await stopAll();
}
