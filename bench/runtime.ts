/**
 * Node-runtime figures: flite throughput (seconds of audio per wall second) at 1 and 2 slots
 * against a direct in-process flite call measured in the same run, /healthz latency while every
 * slot is busy, RSS after 100 vs 1,000 syntheses, and the streaming figure of
 * bench/runtime-stream.ts (time to the first chunk vs the whole synthesis, 1,500 characters).
 *
 *   npx tsx bench/runtime.ts            (writes bench/results/runtime.json)
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Piscina } from 'piscina';
import { decodeWav } from '../node-runtime/src/audio/wav.ts';
import { REPO_ROOT, startRuntime, synthesize } from '../test/node-runtime/support/runtime-process.ts';
import { printStreamingFigures, streamingFigures } from './runtime-stream.ts';

const TEXT = 'The gateway routes every request to a healthy node, and the node answers with audio.';
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 8000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Baseline: the same flite worker called directly, no HTTP, no scheduler. */
async function directThroughput(threads: number): Promise<number> {
  const pool = new Piscina<{ text: string; voice: string; speed: number }, Uint8Array>({
    filename: new URL('../node-runtime/src/engines/flite/flite-worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  await Promise.all(Array.from({ length: threads }, () => pool.run({ text: 'Warm.', voice: 'slt', speed: 1 })));
  let audioS = 0;
  const end = performance.now() + RUN_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (performance.now() < end) audioS += decodeWav(await pool.run({ text: TEXT, voice: 'slt', speed: 1 })).durationS;
    }),
  );
  const elapsedS = (performance.now() - start) / 1000;
  await pool.destroy();
  return audioS / elapsedS;
}

async function runtimeThroughput(slots: number) {
  const node = await startRuntime([
    '--node-id',
    `bench-${slots}`,
    '--models-dir',
    path.join(REPO_ROOT, 'models'),
    '--models',
    'flite',
    '--slots',
    String(slots),
    '--queue',
    '64',
  ]);
  try {
    let audioS = 0;
    let requests = 0;
    const health: number[] = [];
    const end = performance.now() + RUN_MS;
    const start = performance.now();
    const clients = Array.from({ length: slots * 2 }, async () => {
      while (performance.now() < end) {
        const res = await synthesize(node.url, { text: TEXT });
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        audioS += Number(res.headers.get('x-audio-ms')) / 1000;
        await res.arrayBuffer();
        requests++;
      }
    });
    const prober = (async () => {
      await new Promise((r) => setTimeout(r, 200));
      while (performance.now() < end - 100) {
        const t = performance.now();
        await (await fetch(`${node.url}/healthz`)).text();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.all([...clients, prober]);
    const elapsedS = (performance.now() - start) / 1000;
    health.sort((a, b) => a - b);
    return { audioPerS: audioS / elapsedS, requests, healthP50: percentile(health, 0.5), healthP99: percentile(health, 0.99), healthSamples: health.length };
  } finally {
    await node.stop();
  }
}

async function rssGrowth() {
  const node = await startRuntime([
    '--node-id',
    'bench-rss',
    '--models-dir',
    path.join(REPO_ROOT, 'models'),
    '--models',
    'flite',
    '--slots',
    '2',
    '--queue',
    '64',
  ]);
  const rss = async () => ((await (await fetch(`${node.url}/v1/load`)).json()) as { memory: { rss: number } }).memory.rss;
  try {
    let done = 0;
    const run = async (target: number) => {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (done < target) {
            done++;
            const res = await synthesize(node.url, { text: `Request number ${done}.` });
            await res.arrayBuffer();
          }
        }),
      );
      process.stdout.write(`  rss: ${done} syntheses\n`);
    };
    await run(100);
    const after100 = await rss();
    await run(1000);
    const after1000 = await rss();
    return { after100MB: after100 / 2 ** 20, after1000MB: after1000 / 2 ** 20, growthMBPer1000: ((after1000 - after100) / 2 ** 20) * (1000 / 900) };
  } finally {
    await node.stop();
  }
}

const results: Record<string, unknown> = {};
for (const slots of [1, 2]) {
  process.stdout.write(`direct flite, ${slots} thread(s)…\n`);
  const direct = await directThroughput(slots);
  process.stdout.write(`runtime over HTTP, ${slots} slot(s)…\n`);
  const viaRuntime = await runtimeThroughput(slots);
  results[`slots_${slots}`] = {
    direct_audio_s_per_s: direct,
    runtime_audio_s_per_s: viaRuntime.audioPerS,
    ratio_vs_direct: viaRuntime.audioPerS / direct,
    ...viaRuntime,
  };
}
process.stdout.write('RSS growth…\n');
results.rss = await rssGrowth();
process.stdout.write('streaming, time to first chunk…\n');
const streaming = await streamingFigures();
results.streaming = streaming;

const s1 = results.slots_1 as Record<string, number>;
const s2 = results.slots_2 as Record<string, number>;
const rss = results.rss as Record<string, number>;
console.table({
  '1 slot': {
    'direct (audio s/s)': s1.direct_audio_s_per_s?.toFixed(1),
    'runtime (audio s/s)': s1.runtime_audio_s_per_s?.toFixed(1),
    ratio: s1.ratio_vs_direct?.toFixed(3),
    'healthz p50 ms': s1.healthP50?.toFixed(2),
    'healthz p99 ms': s1.healthP99?.toFixed(2),
  },
  '2 slots': {
    'direct (audio s/s)': s2.direct_audio_s_per_s?.toFixed(1),
    'runtime (audio s/s)': s2.runtime_audio_s_per_s?.toFixed(1),
    ratio: s2.ratio_vs_direct?.toFixed(3),
    'healthz p50 ms': s2.healthP50?.toFixed(2),
    'healthz p99 ms': s2.healthP99?.toFixed(2),
  },
});
printStreamingFigures(streaming);
console.log(
  `RSS after 100: ${rss.after100MB?.toFixed(1)} MB, after 1000: ${rss.after1000MB?.toFixed(1)} MB, growth ${rss.growthMBPer1000?.toFixed(1)} MB / 1000 requests`,
);
await writeFile(
  path.join(REPO_ROOT, 'bench/results/runtime.json'),
  `${JSON.stringify({ date: new Date().toISOString(), run_ms: RUN_MS, ...results }, null, 2)}\n`,
);
