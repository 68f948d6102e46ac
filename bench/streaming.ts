/**
 * Streaming figures, each against a baseline measured in the same run (ratios, not absolute
 * times: the shared machine's speed varies):
 * - time to first audio byte through the gateway for 1,500 characters of flite vs the node's own
 *   first chunk (the same text straight to a node with "stream": true), and vs the total time;
 * - the same on a timer-driven simulator pack (no jitter): flite's time to its first sentence
 *   varies by tens of ms per request, which hides a difference of a few; the simulator's does not,
 *   so the pairs measure what the gateway adds;
 * - 5,000 characters on enterprise (4 segments at once) vs one node doing it sequentially, and
 *   the best ratio the machine's cores allow for the CPU that run used (all processes);
 * - gateway CPU per request, mp3 vs wav, at a paced rate.
 *
 *   npx tsx bench/streaming.ts [--runs 10]
 * @module
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { segmentText } from '../gateway/src/stream/segmenter.ts';
import { simOverrides, startCluster } from '../test/harness/index.ts';
import { cpuMs } from './lib/proc.ts';
import { median, percentile } from './lib/stats.ts';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 8;
const sentence = 'The gateway streams audio as it is made, one sentence after another. ';
const textOf = (n: number) => sentence.repeat(Math.ceil(n / sentence.length)).slice(0, n);

// The shipped health-check interval (config/local.yaml), not the tests' 200 ms: probes cost
// every process CPU on the same two cores the figures are about.
const SHIPPED_HEALTH = { interval_ms: 500, timeout_ms: 400, healthy_threshold: 2, unhealthy_threshold: 2 };

/** Both requests of a pair, which goes first alternating with `i`: neither always meets the calmer machine. */
async function alternate<A, B>(i: number, a: () => Promise<A>, b: () => Promise<B>): Promise<[A, B]> {
  if (i % 2 === 0) {
    const x = await a();
    return [x, await b()];
  }
  const y = await b();
  return [await a(), y];
}

/** POSTs and reads the body; ms to the first body byte and to the end. */
async function timed(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  firstOnly = false,
): Promise<{ first: number; total: number; bytes: number; upstream: number | undefined; own: number | undefined; segments: number }> {
  const t0 = performance.now();
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  // The gateway's Server-Timing: time from its first node request to that node's first audio.
  const timing = String(res.headers['server-timing'] ?? '');
  const upstream = /upstream;dur=([\d.]+)/.exec(timing)?.[1];
  // …and the gateway's own time before its headers (admission, planning, segmenting, encoder).
  const own = /gateway;dur=([\d.]+)/.exec(timing)?.[1];
  let first = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    if (first === 0) first = performance.now() - t0;
    bytes += (chunk as Buffer).length;
    // Leaving cancels the synthesis (node and gateway alike): only the first byte is measured.
    if (firstOnly) break;
  }
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
  return {
    first,
    total: performance.now() - t0,
    bytes,
    upstream: upstream === undefined ? undefined : Number(upstream),
    own: own === undefined ? undefined : Number(own),
    segments: Number(res.headers['x-segments'] ?? 1),
  };
}

/**
 * What the gateway adds to the first byte, engine noise excluded: a simulator pack whose first
 * chunk comes a fixed 80 ms after the request (no jitter, a timer rather than CPU work), at the
 * response rate (nothing to resample). Direct and through the gateway alternate; each request
 * leaves after its first byte. The text is one segment (500 characters): the simulator computes a
 * request's whole clip before its first chunk, so the gateway's shorter segments of a longer
 * text would start sooner than the direct request and flatter it.
 */
async function simulatorFirstByte(
  pairs: number,
): Promise<{ node_p50_ms: number; gateway_p50_ms: number; paired_difference_p50_ms: number; paired_difference_iqr_ms: [number, number] }> {
  const dir = mkdtempSync(join(tmpdir(), 'voxgate-bench-sim-'));
  mkdirSync(join(dir, 'sim-fallback'));
  const manifest = JSON.parse(readFileSync('test/fixtures/models/sim/sim-fallback/manifest.json', 'utf8')) as {
    sample_rate: number;
    parameters: Record<string, number>;
  };
  manifest.sample_rate = 24_000;
  manifest.parameters = { ...manifest.parameters, rtf: 0.05, jitter: 0, base_ms: 80 };
  writeFileSync(join(dir, 'sim-fallback', 'manifest.json'), JSON.stringify(manifest));
  const sim = await startCluster({
    regions: [{ name: 'north', nodes: 2 }],
    node: { slots: 2, queue: 8, modelsDir: dir, packs: ['sim-fallback'] },
    gateway: { ...simOverrides(), health: SHIPPED_HEALTH },
  });
  try {
    const t500 = textOf(500);
    const direct = (i: number) =>
      timed(
        `${sim.nodes[i % 2]!.url}/v1/synthesize`,
        { text: t500, model: 'sim-fallback', voice: 'alto', format: 'pcm', stream: true, seed: 1, sample_rate: 24_000 },
        {},
        true,
      );
    const viaGateway = () => timed(`${sim.gateway.url}/v1/synthesize`, { text: t500, format: 'pcm', seed: 1 }, { authorization: 'Bearer demo-pro' }, true);
    for (let i = 0; i < 4; i++) await viaGateway();
    const node: number[] = [];
    const gateway: number[] = [];
    const paired: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const [d, g] = await alternate(i, () => direct(i), viaGateway);
      node.push(d.first);
      gateway.push(g.first);
      paired.push(g.first - d.first);
      // Let the cancelled syntheses wind down before the next pair.
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = (x: number) => Number(x.toFixed(1));
    return {
      node_p50_ms: ms(median(node)),
      gateway_p50_ms: ms(median(gateway)),
      paired_difference_p50_ms: ms(median(paired)),
      paired_difference_iqr_ms: [ms(percentile(paired, 25)), ms(percentile(paired, 75))],
    };
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let out: Record<string, unknown> = {};
const cluster = await startCluster({
  regions: [{ name: 'north', nodes: 4 }],
  node: { slots: 2, queue: 8 },
  gateway: {
    plans: {
      pro: { long_text: 'segment', max_text_chars: 3000, parallel_segments: 2, timeout_ms: 60_000 },
      enterprise: { long_text: 'segment', max_text_chars: 20_000, parallel_segments: 4, timeout_ms: 60_000 },
    },
    timeouts: { attempt_ms: 10_000 },
    health: SHIPPED_HEALTH,
  },
});
try {
  const gw = `${cluster.gateway.url}/v1/synthesize`;
  const node = `${cluster.nodes[0]!.url}/v1/synthesize`;
  const nodeUrl = (i: number) => `${cluster.nodes[i % cluster.nodes.length]!.url}/v1/synthesize`;
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  // Warm-up (compiles, pools, encoders).
  await timed(gw, { text: textOf(200), format: 'pcm' }, auth('demo-pro'));
  await timed(gw, { text: textOf(200), format: 'mp3' }, auth('demo-pro'));

  const t1500 = textOf(1500);
  const nodeFirst: number[] = [];
  const gwFirst: number[] = [];
  const gwTotal: number[] = [];
  const gwOwn: number[] = [];
  const gwServerOwn: number[] = [];
  // Each gateway request minus the node request beside it: the pairs share the machine's state
  // of the moment, so their median moves less than the difference of two medians. The direct
  // requests go to every node in turn, as the gateway's do.
  const pairedFirst: number[] = [];
  // Flite's time to its first sentence varies by tens of ms from one request to the next: twice
  // the runs, and the gateway's own part read from its Server-Timing as well.
  for (let i = 0; i < runs * 2; i++) {
    const direct = () => timed(nodeUrl(i), { text: t1500, model: 'flite', voice: 'slt', format: 'pcm', stream: true, seed: 1, sample_rate: 24_000 }, {});
    const viaGateway = () => timed(gw, { text: t1500, format: 'pcm', seed: 1 }, auth('demo-pro'));
    const [d, g] = await alternate(i, direct, viaGateway);
    nodeFirst.push(d.first);
    gwFirst.push(g.first);
    pairedFirst.push(g.first - d.first);
    gwTotal.push(g.total);
    if (g.upstream !== undefined) gwOwn.push(g.first - g.upstream);
    if (g.own !== undefined) gwServerOwn.push(g.own);
  }

  const t5000 = textOf(5000);
  const seq: number[] = [];
  const par: number[] = [];
  const pairRatio: number[] = [];
  const floorRatio: number[] = [];
  let segments = 0;
  // CPU ms of every process of the run: the cluster's and this one (the client's reads).
  const pids = [cluster.gateway.proc.pid, ...cluster.nodes.map((n) => n.proc.pid)];
  const allCpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), cpuMs(process.pid));
  const cores = availableParallelism();
  // Each pair takes ~12 s; the ratio moves by ±0.05 from pair to pair on this shared machine.
  for (let i = 0; i < runs; i++) {
    // One node doing it sequentially: 600-character segments one after another (a node takes at
    // most 4,000 characters per request).
    const t0 = performance.now();
    for (const seg of segmentText(t5000, { maxChars: 600 }))
      await timed(node, { text: seg, model: 'flite', voice: 'slt', format: 'pcm', stream: true, seed: 1, sample_rate: 24_000 }, {});
    seq.push(performance.now() - t0);
    const cpu0 = allCpu();
    const g = await timed(gw, { text: t5000, format: 'pcm', seed: 1 }, auth('demo-enterprise'));
    par.push(g.total);
    pairRatio.push(g.total / seq.at(-1)!);
    // With every core busy for the whole answer, it could take no less than its CPU / cores.
    floorRatio.push((allCpu() - cpu0) / cores / seq.at(-1)!);
    segments = g.segments;
  }

  // Gateway CPU per request at a paced rate (one request every 250 ms), mp3 vs wav.
  const cpuPer = async (format: string): Promise<number> => {
    const n = runs * 2;
    const before = cpuMs(cluster.gateway.proc.pid);
    for (let i = 0; i < n; i++) {
      await Promise.all([timed(gw, { text: textOf(300), format, seed: 1 }, auth('demo-pro')), new Promise((r) => setTimeout(r, 250))]);
    }
    return (cpuMs(cluster.gateway.proc.pid) - before) / n;
  };
  const cpuWav = await cpuPer('wav');
  const cpuMp3 = await cpuPer('mp3');

  out = {
    ttfb_1500_chars: {
      node_first_chunk_p50_ms: Math.round(median(nodeFirst)),
      gateway_first_byte_p50_ms: Math.round(median(gwFirst)),
      difference_p50_ms: Math.round(median(gwFirst) - median(nodeFirst)),
      paired_difference_p50_ms: Math.round(median(pairedFirst)),
      paired_difference_iqr_ms: [Math.round(percentile(pairedFirst, 25)), Math.round(percentile(pairedFirst, 75))],
      // Client's first byte minus the node's time to first audio as the gateway saw it: what the
      // gateway itself adds (both loopback hops, admission, planning, framing, encoding).
      gateway_own_p50_ms: Number(median(gwOwn).toFixed(1)),
      // The gateway's own time inside its process, from its Server-Timing (no client, no hops).
      gateway_own_server_p50_ms: Number(median(gwServerOwn).toFixed(1)),
      gateway_total_p50_ms: Math.round(median(gwTotal)),
      first_byte_share_of_total: Number((median(gwFirst) / median(gwTotal)).toFixed(3)),
      goals: 'difference ≤ 5 ms (gateway_own_server: the gateway process’s part of it); share ≤ 0.25',
    },
    enterprise_5000_chars: {
      one_node_sequential_p50_ms: Math.round(median(seq)),
      gateway_4_segments_parallel_p50_ms: Math.round(median(par)),
      ratio: Number((median(par) / median(seq)).toFixed(2)),
      pair_ratio_p50: Number(median(pairRatio).toFixed(2)),
      // The ratio if the answer's CPU (nodes, gateway, client) had kept every core busy throughout.
      cpu_bound_floor_p50: Number(median(floorRatio).toFixed(2)),
      gateway_segments: segments,
      goal: 'ratio ≤ 0.6',
    },
    gateway_cpu_ms_per_request_300_chars: { wav: Number(cpuWav.toFixed(1)), mp3: Number(cpuMp3.toFixed(1)) },
  };
} finally {
  await cluster.close();
}
out = { ...out, ttfb_500_chars_simulator: { ...(await simulatorFirstByte(runs * 4)), goal: 'paired difference ≤ 5 ms' } };
console.log(JSON.stringify(out, null, 2));
