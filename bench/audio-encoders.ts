/**
 * Encoding CPU per second of audio, every format and every candidate encoder that was tried
 * (`npx tsx bench/audio-encoders.ts [seconds]`), against baselines measured in the same run:
 * copying the PCM (what wav/pcm cost) and synthesising it (flite, the cheapest engine).
 * Writes bench/results/audio-encoders.json; docs/audio-formats.md quotes a run.
 *
 * In-process candidates are timed on this thread with process.cpuUsage() around a synchronous
 * encode of the same 200 ms chunks the gateway sees; ffmpeg candidates with the child's own
 * user+system time (bash `time`), start-up included, and once more on 0.2 s of audio to show the
 * start-up alone. The last table is what the gateway's event-loop thread pays per audio second
 * when the encoder runs in the encoder worker threads (AudioEncoding), from the kernel's
 * per-thread CPU accounting (/proc/self/task/PID/schedstat, Linux): PCM already at 24 kHz, and
 * flite's 16 kHz PCM with setInputRate (resampled in the encoder thread for mp3, opus and flac).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Piscina } from 'piscina';
import { AUDIO_FORMATS, AudioEncoding, OUTPUT_SAMPLE_RATE, createResampler, type AudioFormat } from '../gateway/src/audio/index.ts';
import { createFlacCodec } from '../gateway/src/audio/codecs/flac-codec.ts';
import { createMp3Codec } from '../gateway/src/audio/codecs/mp3-codec.ts';
import { createOpusCodec } from '../gateway/src/audio/codecs/opus-codec.ts';
import type { Codec } from '../gateway/src/audio/codecs/codec.ts';
import { decodeWav } from '../node-runtime/src/audio/wav.ts';

const targetSeconds = Number(process.argv[2] ?? 30);
type Synthesize = (task: { text: string; voice: string; speed: number }) => Promise<Record<symbol, Uint8Array>>;
const { default: synthesize } = (await import(new URL('../node-runtime/src/engines/flite/flite-worker.mjs', import.meta.url).href)) as { default: Synthesize };
const CHUNK = OUTPUT_SAMPLE_RATE / 5;
const SENTENCE = 'Text to speech is listened to while it plays, so the gateway sends audio as it is made, in the format the client asked for. ';

interface Row {
  format: string;
  candidate: string;
  msPerAudioSecond: number;
  bytes: number;
  note?: string;
}
const rows: Row[] = [];

function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

// --- the audio, and what it cost to make -------------------------------------------------------
const text = SENTENCE.repeat(Math.max(1, Math.ceil(targetSeconds / 7)));
await synthesize({ text: 'Warm up.', voice: 'slt', speed: 1 }); // compile the module first
const synthStart = process.cpuUsage();
const moved = await synthesize({ text, voice: 'slt', speed: 1 });
const synthUsed = process.cpuUsage(synthStart);
const wav = decodeWav(moved[Piscina.valueSymbol]!);
const seconds = wav.samples.length / wav.sampleRate;
const synthMs = (synthUsed.user + synthUsed.system) / 1000 / seconds;

let pcm = new Int16Array(0);
const resampleMs =
  cpuMs(() => {
    const r = createResampler(wav.sampleRate, OUTPUT_SAMPLE_RATE);
    const parts: Int16Array[] = [];
    const step = wav.sampleRate / 5;
    for (let i = 0; i < wav.samples.length; i += step) parts.push(r.push(wav.samples.subarray(i, i + step)));
    parts.push(r.flush());
    pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      pcm.set(p, at);
      at += p.length;
    }
  }) / seconds;
const chunks: Int16Array[] = [];
for (let i = 0; i < pcm.length; i += CHUNK) chunks.push(pcm.subarray(i, i + CHUNK));
const pcmBytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);

// --- baseline: the copy every format pays ---------------------------------------------------------
const copy = (): number => cpuMs(() => void Buffer.concat(chunks.map((c) => Buffer.from(new Uint8Array(c.buffer, c.byteOffset, c.byteLength))))) / seconds;
copy();
const copyMs = Math.max(copy(), copy());

// --- in-process candidates ------------------------------------------------------------------------
async function codecRow(format: string, candidate: string, make: () => Promise<Codec>): Promise<void> {
  let bytes = 0;
  const once = async (): Promise<number> => {
    const codec = await make();
    const ms = cpuMs(() => {
      bytes = 0;
      for (const c of chunks) bytes += codec.encode(c).length;
      bytes += codec.finish().length;
    });
    codec.free();
    return ms / seconds;
  };
  await once(); // JIT and WebAssembly compilation out of the figure
  rows.push({ format, candidate, msPerAudioSecond: Math.min(await once(), await once()), bytes });
}

async function optional<T>(name: string): Promise<T | undefined> {
  try {
    const mod = (await import(name)) as { default?: T } & T;
    return name.endsWith('.js') || name === 'opusscript' ? (mod.default ?? mod) : mod;
  } catch {
    rows.push({ format: '-', candidate: name, msPerAudioSecond: Number.NaN, bytes: 0, note: 'not installed' });
    return undefined;
  }
}

await codecRow('mp3', 'wasm-media-encoders (LAME, WebAssembly) 64k — chosen', () => createMp3Codec(OUTPUT_SAMPLE_RATE));
const lamejs = await optional<{ Mp3Encoder: new (ch: number, rate: number, kbps: number) => { encodeBuffer(s: Int16Array): Uint8Array; flush(): Uint8Array } }>(
  '@breezystack/lamejs',
);
if (lamejs) {
  await codecRow('mp3', '@breezystack/lamejs (LAME port to JS) 64k', async () => {
    const e = new lamejs.Mp3Encoder(1, OUTPUT_SAMPLE_RATE, 64);
    return { encode: (s) => e.encodeBuffer(s), finish: () => e.flush(), free() {} };
  });
}
await codecRow('opus', '@evan/opus (libopus, WebAssembly) 32k c6 + Ogg pages — chosen', () => createOpusCodec(OUTPUT_SAMPLE_RATE));
const evanNative = await optional<{ Encoder: new (o: object) => { bitrate: number; encode(s: Int16Array): Uint8Array } }>('@evan/opus/node/index.js');
if (evanNative) {
  await codecRow('opus', '@evan/opus native addon 32k c10 (packets; crashes at worker exit)', async () => {
    const e = new evanNative.Encoder({ channels: 1, sample_rate: OUTPUT_SAMPLE_RATE, application: 'audio' });
    e.bitrate = 32_000; // libopus default complexity 10
    return opusPackets((s) => e.encode(s).length);
  });
}
const opusscript =
  await optional<new (rate: number, ch: number, app: number) => { setBitrate(b: number): void; encode(b: Buffer, frame: number): Buffer; delete(): void }>(
    'opusscript',
  );
if (opusscript) {
  await codecRow('opus', 'opusscript (libopus 1.4, Emscripten) 32k c10 (packets only)', async () => {
    const e = new opusscript(OUTPUT_SAMPLE_RATE, 1, 2049);
    e.setBitrate(32_000);
    return opusPackets((s) => e.encode(Buffer.from(s.buffer, s.byteOffset, s.byteLength), s.length).length);
  });
}
await codecRow('flac', 'libflacjs (libFLAC, asm.js) level 5 — chosen', () => createFlacCodec(OUTPUT_SAMPLE_RATE));

/** Opus packets of 20 ms, no container: the raw codec cost of a candidate. */
function opusPackets(encodeFrame: (frame: Int16Array) => number): Codec {
  const frame = OUTPUT_SAMPLE_RATE / 50;
  let rest = new Int16Array(0);
  return {
    encode(s) {
      const all = new Int16Array(rest.length + s.length);
      all.set(rest);
      all.set(s, rest.length);
      let n = 0;
      let at = 0;
      for (; at + frame <= all.length; at += frame) n += encodeFrame(all.subarray(at, at + frame));
      rest = all.slice(at);
      return new Uint8Array(n);
    },
    finish: () => new Uint8Array(0),
    free() {},
  };
}

// --- ffmpeg candidates ------------------------------------------------------------------------------
const FFMPEG: Array<[string, string, string[]]> = [
  ['mp3', 'ffmpeg libmp3lame 64k', ['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mp3']],
  ['opus', 'ffmpeg libopus 32k c10 (Ogg)', ['-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg']],
  ['aac', 'ffmpeg aac 64k (ADTS) — chosen', ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts']],
  ['flac', 'ffmpeg flac', ['-c:a', 'flac', '-f', 'flac']],
];
function ffmpegCpu(args: string[], input: Buffer): { ms: number; bytes: number } | undefined {
  const cmd = `TIMEFORMAT="%U %S"; { time ffmpeg -nostdin -loglevel error -f s16le -ar ${OUTPUT_SAMPLE_RATE} -ac 1 -i pipe:0 ${args.join(' ')} pipe:1 | wc -c ; } 2>&1`;
  const r = spawnSync('bash', ['-c', cmd], { input, maxBuffer: 1 << 26 });
  const lines = r.stdout.toString().trim().split('\n');
  const [user, sys] = (lines.at(-1) ?? '').split(' ').map(Number);
  if (r.status !== 0 || user === undefined || sys === undefined || Number.isNaN(user)) return undefined;
  return { ms: (user + sys) * 1000, bytes: Number(lines[0]) };
}
const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
let ffmpegStartMs = Number.NaN;
if (hasFfmpeg) {
  for (const [format, candidate, args] of FFMPEG) {
    const runs = [ffmpegCpu(args, pcmBytes), ffmpegCpu(args, pcmBytes)].filter((r) => r !== undefined);
    if (runs.length === 0) continue;
    rows.push({ format, candidate, msPerAudioSecond: Math.min(...runs.map((r) => r.ms)) / seconds, bytes: runs[0]!.bytes, note: 'process start-up included' });
  }
  ffmpegStartMs = ffmpegCpu(FFMPEG[2]![2], pcmBytes.subarray(0, OUTPUT_SAMPLE_RATE * 0.4))?.ms ?? Number.NaN;
} else rows.push({ format: '-', candidate: 'ffmpeg', msPerAudioSecond: Number.NaN, bytes: 0, note: 'not installed: apt-get install ffmpeg' });

// --- what the gateway's event loop pays, encoder in the worker threads ---------------------------
/** CPU time of this (main) thread alone, from the kernel's per-thread accounting (Linux). */
function mainThreadMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}
const mainThread: Array<{ format: string; input: string; mainMsPerAudioSecond: number; processMsPerAudioSecond: number; bytes: number }> = [];
{
  const encoding = new AudioEncoding({ threads: 1 });
  const at16 = wav.samples;
  const chunks16: Int16Array[] = [];
  for (let i = 0; i < at16.length; i += wav.sampleRate / 5) chunks16.push(at16.subarray(i, i + wav.sampleRate / 5));
  const measure = async (format: AudioFormat, input: 'resampled before' | 'setInputRate'): Promise<void> => {
    const once = async (): Promise<{ main: number; total: number; bytes: number }> => {
      const encoder = encoding.createEncoder(format, OUTPUT_SAMPLE_RATE);
      let bytes = 0;
      encoder.on('data', (b: Buffer) => (bytes += b.length));
      const ended = new Promise((resolve, reject) => encoder.once('end', resolve).once('error', reject));
      const main0 = mainThreadMs();
      const cpu0 = process.cpuUsage();
      const source = input === 'setInputRate' ? chunks16 : chunks;
      if (input === 'setInputRate') encoder.setInputRate(wav.sampleRate);
      for (const c of source) if (!encoder.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength))) await new Promise((r) => encoder.once('drain', r));
      encoder.end();
      await ended;
      const cpu = process.cpuUsage(cpu0);
      return { main: mainThreadMs() - main0, total: (cpu.user + cpu.system) / 1000, bytes };
    };
    await once();
    const runs = [await once(), await once()];
    const best = runs.reduce((a, b) => (a.main <= b.main ? a : b));
    mainThread.push({ format, input, mainMsPerAudioSecond: best.main / seconds, processMsPerAudioSecond: best.total / seconds, bytes: best.bytes });
  };
  for (const format of AUDIO_FORMATS) {
    if (!(await encoding.available(format))) continue;
    await measure(format, 'resampled before');
    await measure(format, 'setInputRate');
  }
  await encoding.close();
}
// The main-thread resampler alone, warm, measured the same way.
const resampleMain = ((): number => {
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 3; k++) {
    const t0 = mainThreadMs();
    const r = createResampler(wav.sampleRate, OUTPUT_SAMPLE_RATE);
    for (let i = 0; i < wav.samples.length; i += wav.sampleRate / 5) r.push(wav.samples.subarray(i, i + wav.sampleRate / 5));
    r.flush();
    best = Math.min(best, (mainThreadMs() - t0) / seconds);
  }
  return best;
})();

// --- report ----------------------------------------------------------------------------------------
const fmt = (n: number): string => (Number.isNaN(n) ? '   -  ' : n.toFixed(2).padStart(6));
console.log(
  `audio: ${seconds.toFixed(1)} s of flite speech (slt, ${wav.sampleRate} Hz) resampled to ${OUTPUT_SAMPLE_RATE} Hz; ${cpus().length} CPUs: ${cpus()[0]?.model ?? '?'}`,
);
console.log(
  `baselines (ms CPU per s of audio): synthesis ${fmt(synthMs)}   resample ${wav.sampleRate}→${OUTPUT_SAMPLE_RATE} ${fmt(resampleMs)}   PCM copy ${fmt(copyMs)}`,
);
console.log(`\n${'format'.padEnd(6)} ${'candidate'.padEnd(66)} ms/s   ×copy   % of synthesis  kB/s`);
for (const r of rows) {
  console.log(
    `${r.format.padEnd(6)} ${r.candidate.padEnd(66)} ${fmt(r.msPerAudioSecond)} ${Number.isNaN(r.msPerAudioSecond) ? '' : `${(r.msPerAudioSecond / copyMs).toFixed(0).padStart(6)}  ${((100 * r.msPerAudioSecond) / synthMs).toFixed(1).padStart(8)} %  ${(r.bytes / seconds / 1000).toFixed(1).padStart(6)}`} ${r.note ?? ''}`,
  );
}
if (hasFfmpeg) console.log(`ffmpeg start-up alone (aac, 0.4 s of audio): ${ffmpegStartMs.toFixed(1)} ms CPU per process`);
console.log(`\nthrough AudioEncoding, per s of audio: the event-loop thread's own CPU (and the whole process's)`);
console.log(`  createResampler ${wav.sampleRate}→${OUTPUT_SAMPLE_RATE} on the event loop, warm: ${fmt(resampleMain)} ms/s`);
for (const m of mainThread)
  console.log(
    `  ${m.format.padEnd(5)} ${m.input.padEnd(17)} main ${fmt(m.mainMsPerAudioSecond)} ms/s   process ${fmt(m.processMsPerAudioSecond)} ms/s   ${(m.bytes / seconds / 1000).toFixed(1)} kB/s`,
  );

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/audio-encoders.json',
  `${JSON.stringify({ seconds, sampleRate: OUTPUT_SAMPLE_RATE, baselines: { synthMs, resampleMs, copyMs }, candidates: rows, throughAudioEncoding: mainThread, resampleMainMs: resampleMain, ffmpegStartMs }, null, 2)}\n`,
);
