/**
 * `npx tsx bench/jobs-cache.ts [--quick]`: the audio cache and priority classes, on sim nodes
 * (timed synthesis, so the figures do not depend on spare CPU). Every figure is a ratio against a
 * baseline measured in the same run:
 * 1. cache hit: added p50 through the gateway vs a node synthesis of the same text (direct);
 * 2. share of a replayed Zipf workload (s = 1.1 over 200 texts) served from the cache;
 * 3. interactive p99 at ~80% of the interactive slots, without and with a saturating batch
 *    backlog (a 50,000-character job): goal ≤ +10%. `--rounds N` (default 1) alternates the two
 *    conditions N times and pools the samples (a single short window's p99 is one or two
 *    requests); `--priority-only` skips figures 1 and 2. The load average is printed with it: on
 *    a shared machine CPU contention moves the figure more than the scheduling does.
 * Only 127.0.0.1; every process is stopped at the end.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  baseConfig,
  deepMerge,
  percentile,
  SIM_MODELS_DIR,
  simOverrides,
  startGateway,
  startNode,
  type GatewayHandle,
  type NodeHandle,
} from '../test/harness/index.ts';

const quick = process.argv.includes('--quick');
const priorityOnly = process.argv.includes('--priority-only');
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Math.max(1, Number(process.argv[roundsArg + 1]) || 1) : 1;
const dir = mkdtempSync(join(tmpdir(), 'voxgate-bench-jc-'));
const SLOTS = 4;
let nodes: NodeHandle[] = [];
let gw: GatewayHandle | undefined;

async function timed(url: string, init: RequestInit): Promise<{ ms: number; status: number; cache: string | null }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.status, cache: res.headers.get('x-cache') };
}
const gwPost = (text: string, key = 'demo-pro') => ({
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ text, format: 'wav' }),
});

/** `concurrency` workers calling `fn` until `total` calls or `durationMs` passed. */
async function load<T>(concurrency: number, limit: { total?: number; durationMs?: number }, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  const until = limit.durationMs !== undefined ? Date.now() + limit.durationMs : Number.POSITIVE_INFINITY;
  let next = 0;
  const worker = async () => {
    while (next < (limit.total ?? Number.POSITIVE_INFINITY) && Date.now() < until) out.push(await fn(next++));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function zipfSampler(n: number, s: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  return () => {
    const r = Math.random();
    const i = cdf.findIndex((c) => c >= r);
    return i < 0 ? n - 1 : i;
  };
}

try {
  nodes = await Promise.all(
    ['north-1', 'north-2'].map((id) => startNode(id, 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'], slots: SLOTS, queue: 64 })),
  );
  const sim = simOverrides();
  const plans = sim['plans'] as Record<string, Record<string, unknown>>;
  gw = await startGateway(
    deepMerge(baseConfig(), {
      ...sim,
      plans: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, { ...p, jobs: { max_chars: 100_000, max_pending: 10, chars_per_day: 10_000_000 } }])),
      regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
      cache: { dir: join(dir, 'cache'), max_bytes: 64 * 2 ** 20, plans: ['pro'] },
      jobs: { store_path: join(dir, 'jobs.sqlite'), audio_dir: join(dir, 'audio'), concurrency: 1, parallel_segments: 8 },
    }),
  );
  const url = gw.url;

  if (!priorityOnly) await cacheFigures(url);
  await priorityFigure(url);
} finally {
  await gw?.proc.stop(2_000);
  await Promise.all(nodes.map((n) => n.proc.kill()));
  rmSync(dir, { recursive: true, force: true });
}

async function cacheFigures(url: string): Promise<void> {
  // 1. Hit vs node synthesis of the same text.
  const text = 'A sentence asked for again and again.';
  const n = quick ? 50 : 200;
  const node = [];
  for (let i = 0; i < n; i++)
    node.push(
      await timed(`${nodes[0]!.directUrl}/v1/synthesize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, model: 'sim-fallback', seed: 1 }),
      }),
    );
  await timed(`${url}/v1/synthesize`, gwPost(text));
  const hits = [];
  for (let i = 0; i < n; i++) hits.push(await timed(`${url}/v1/synthesize`, gwPost(text)));
  const hitP50 = percentile(
    hits.map((h) => h.ms),
    50,
  );
  const nodeP50 = percentile(
    node.map((h) => h.ms),
    50,
  );
  console.log(
    `cache hit p50 ${hitP50.toFixed(2)} ms vs node synthesis p50 ${nodeP50.toFixed(2)} ms: ratio ${(hitP50 / nodeP50).toFixed(3)} (hits ${hits.filter((h) => h.cache === 'hit').length}/${n})`,
  );

  // 2. Zipf replay.
  const next = zipfSampler(200, 1.1);
  const replay = await load(4, { total: quick ? 300 : 1000 }, () => timed(`${url}/v1/synthesize`, gwPost(`Catalogue phrase number ${next()}.`)));
  const fromCache = replay.filter((r) => r.cache === 'hit').length;
  console.log(`Zipf replay (s=1.1, 200 texts, ${replay.length} requests): ${((100 * fromCache) / replay.length).toFixed(1)}% served from cache`);
}

/** Batch work on the nodes now (in flight or queued), from their own load reports. */
async function nodeBatch(): Promise<number> {
  let n = 0;
  for (const node of nodes) {
    const l = (await (await fetch(`${node.directUrl}/v1/load`)).json()) as { batch_inflight: number; batch_queue_depth: number };
    n += l.batch_inflight + l.batch_queue_depth;
  }
  return n;
}

async function priorityFigure(url: string): Promise<void> {
  // 3. Interactive p99 at ~80% of interactive slots, without and with a batch backlog. The free
  //    plan does not use the cache, so every request reaches a node.
  const conc = Math.max(1, Math.round(0.8 * SLOTS * nodes.length));
  const windowMs = quick ? 5_000 : 15_000;
  const interactive = async () => {
    const res = await load(conc, { durationMs: windowMs }, (i) =>
      timed(`${url}/v1/synthesize`, gwPost(`Interactive request ${i} with a few words.`, 'demo-free')),
    );
    return { ok: res.filter((r) => r.status === 200).map((r) => r.ms), errors: res.filter((r) => r.status !== 200).length };
  };
  const pooled = { without: [] as number[], with: [] as number[], errors: 0, segments: 0 };
  const perRound: string[] = [];
  const load0 = loadavg()[0]!;
  const withBacklog = async () => {
    const job = await fetch(`${url}/v1/jobs`, gwPost('The batch backlog fills every slot it may take. '.repeat(1100)));
    const { id } = (await job.json()) as { id: string };
    await new Promise((r) => setTimeout(r, 1000));
    const measured = await interactive();
    const auth = { authorization: 'Bearer demo-pro' };
    const status = (await (await fetch(`${url}/v1/jobs/${id}`, { headers: auth })).json()) as { status: string; progress: { segments_done: number } };
    if (status.status !== 'running') console.log(`the backlog job was ${status.status} at the end of the window, not running: the figure is void`);
    await fetch(`${url}/v1/jobs/${id}`, { method: 'DELETE', headers: auth });
    // The other condition starts with no batch work left on the nodes.
    for (let t = 0; t < 300 && (await nodeBatch()) > 0; t++) await new Promise((r) => setTimeout(r, 100));
    return { ...measured, segments: status.progress.segments_done };
  };
  for (let round = 0; round < rounds; round++) {
    // Alternate which condition goes first: a machine whose load drifts during a run would
    // otherwise always favour the first window.
    const first = round % 2 === 0 ? await interactive() : await withBacklog();
    const second = round % 2 === 0 ? await withBacklog() : await interactive();
    const [without, withBatch] = (round % 2 === 0 ? [first, second] : [second, first]) as [
      Awaited<ReturnType<typeof interactive>>,
      Awaited<ReturnType<typeof withBacklog>>,
    ];
    pooled.without.push(...without.ok);
    pooled.with.push(...withBatch.ok);
    pooled.errors += without.errors + withBatch.errors;
    pooled.segments += withBatch.segments;
    perRound.push(`${((percentile(withBatch.ok, 99) / percentile(without.ok, 99) - 1) * 100).toFixed(0)}%`);
  }
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
  const ratio = percentile(pooled.with, 99) / percentile(pooled.without, 99);
  console.log(
    `interactive at ${conc} concurrent (80% of ${SLOTS * nodes.length} slots), ${rounds} round(s) of ${windowMs / 1000} s each, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}: ` +
      `p99 ${p(pooled.without, 99)} ms (p50 ${p(pooled.without, 50)}, n ${pooled.without.length}) without batch; ` +
      `p99 ${p(pooled.with, 99)} ms (p50 ${p(pooled.with, 50)}, n ${pooled.with.length}) with a batch backlog (${pooled.segments} job segments done meanwhile); ` +
      `errors ${pooled.errors}; ${((ratio - 1) * 100).toFixed(1)}% (per round: ${perRound.join(', ')}; goal ≤ +10%)`,
  );
}
