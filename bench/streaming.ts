/**
 * Streaming figures, each against a baseline measured in the same run (ratios, not absolute
 * times: the shared machine's speed varies):
 * - time to first audio byte through the gateway for 1,500 characters of flite vs the node's own
 *   first chunk (the same text straight to a node with "stream": true), and vs the total time;
 * - 5,000 characters on enterprise (4 segments at once) vs one node doing it sequentially;
 * - gateway CPU per request, mp3 vs wav, at a paced rate.
 *
 *   npx tsx bench/streaming.ts [--runs 10]
 * @module
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { segmentText } from '../gateway/src/stream/segmenter.ts';
import { startCluster } from '../test/harness/index.ts';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 8;
const sentence = 'The gateway streams audio as it is made, one sentence after another. ';
const textOf = (n: number) => sentence.repeat(Math.ceil(n / sentence.length)).slice(0, n);

/** CPU seconds (user + system) a process has used, from /proc (Linux, 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** POSTs and reads the body; ms to the first body byte and to the end. */
async function timed(
  url: string,
  body: unknown,
  headers: Record<string, string>,
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

const cluster = await startCluster({
  regions: [{ name: 'north', nodes: 4 }],
  node: { slots: 2, queue: 8 },
  gateway: {
    plans: {
      pro: { long_text: 'segment', max_text_chars: 3000, parallel_segments: 2, timeout_ms: 60_000 },
      enterprise: { long_text: 'segment', max_text_chars: 20_000, parallel_segments: 4, timeout_ms: 60_000 },
    },
    timeouts: { attempt_ms: 10_000 },
    // The shipped health-check interval (config/local.yaml), not the tests' 200 ms: probes cost
    // every process CPU on the same two cores the figures are about.
    health: { interval_ms: 500, timeout_ms: 400, healthy_threshold: 2, unhealthy_threshold: 2 },
  },
});
try {
  const gw = `${cluster.gateway.url}/v1/synthesize`;
  const node = `${cluster.nodes[0]!.url}/v1/synthesize`;
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
  // Each gateway request minus the node request just before it: the pairs share the machine's
  // state of the moment, so their median moves less than the difference of two medians.
  const pairedFirst: number[] = [];
  // Flite's time to its first sentence varies by tens of ms from one request to the next: twice
  // the runs, and the gateway's own part read from its Server-Timing as well.
  for (let i = 0; i < runs * 2; i++) {
    nodeFirst.push((await timed(node, { text: t1500, model: 'flite', voice: 'slt', format: 'pcm', stream: true, seed: 1, sample_rate: 24_000 }, {})).first);
    const g = await timed(gw, { text: t1500, format: 'pcm', seed: 1 }, auth('demo-pro'));
    gwFirst.push(g.first);
    pairedFirst.push(g.first - nodeFirst.at(-1)!);
    gwTotal.push(g.total);
    if (g.upstream !== undefined) gwOwn.push(g.first - g.upstream);
    if (g.own !== undefined) gwServerOwn.push(g.own);
  }

  const t5000 = textOf(5000);
  const seq: number[] = [];
  const par: number[] = [];
  const pairRatio: number[] = [];
  let segments = 0;
  // Each pair takes ~12 s; the ratio moves by ±0.05 from pair to pair on this shared machine.
  for (let i = 0; i < runs; i++) {
    // One node doing it sequentially: 600-character segments one after another (a node takes at
    // most 4,000 characters per request).
    const t0 = performance.now();
    for (const seg of segmentText(t5000, { maxChars: 600 }))
      await timed(node, { text: seg, model: 'flite', voice: 'slt', format: 'pcm', stream: true, seed: 1, sample_rate: 24_000 }, {});
    seq.push(performance.now() - t0);
    const g = await timed(gw, { text: t5000, format: 'pcm', seed: 1 }, auth('demo-enterprise'));
    par.push(g.total);
    pairRatio.push(g.total / seq.at(-1)!);
    segments = g.segments;
  }

  // Gateway CPU per request at a paced rate (one request every 250 ms), mp3 vs wav.
  const cpuPer = async (format: string): Promise<number> => {
    const n = runs * 2;
    const before = cpuSeconds(cluster.gateway.proc.pid);
    for (let i = 0; i < n; i++) {
      await Promise.all([timed(gw, { text: textOf(300), format, seed: 1 }, auth('demo-pro')), new Promise((r) => setTimeout(r, 250))]);
    }
    const after = cpuSeconds(cluster.gateway.proc.pid);
    return ((after - before) * 1000) / n;
  };
  const cpuWav = await cpuPer('wav');
  const cpuMp3 = await cpuPer('mp3');

  const out = {
    ttfb_1500_chars: {
      node_first_chunk_p50_ms: Math.round(median(nodeFirst)),
      gateway_first_byte_p50_ms: Math.round(median(gwFirst)),
      difference_p50_ms: Math.round(median(gwFirst) - median(nodeFirst)),
      paired_difference_p50_ms: Math.round(median(pairedFirst)),
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
      gateway_segments: segments,
      goal: 'ratio ≤ 0.6',
    },
    gateway_cpu_ms_per_request_300_chars: { wav: Number(cpuWav.toFixed(1)), mp3: Number(cpuMp3.toFixed(1)) },
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  await cluster.close();
}
