import { spawnSync } from 'node:child_process';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIO_FORMATS,
  AudioEncoding,
  OUTPUT_SAMPLE_RATE,
  contentTypeOf,
  createResampler,
  type AudioEncoder,
  type AudioFormat,
} from '../../../gateway/src/audio/index.ts';
import { EncoderPool } from '../../../gateway/src/audio/encoder-pool.ts';
import type { FfmpegAudioEncoder } from '../../../gateway/src/audio/ffmpeg-encoder.ts';
import type { WorkerAudioEncoder } from '../../../gateway/src/audio/worker-encoder.ts';
import { hasCommand, systemPackage } from '../../support/system-package.ts';
import { byteChunks, sampleChunks, speech, type Speech } from './support/speech.ts';

const ffmpeg = systemPackage('ffmpeg', () => hasCommand('ffmpeg', ['-version']), 'apt-get install ffmpeg');

/**
 * Decoded length may exceed the input by the codec's priming and last-frame padding where the
 * stream cannot signal them: raw MP3 and ADTS AAC have no header to carry encoder delay when
 * streamed (LAME: 576 + 529 samples; AAC: 1024 + up to one 1024-sample frame). Ogg Opus
 * (pre-skip + end granule), FLAC, WAV and PCM are exact.
 */
const EXTRA_MS: Record<AudioFormat, number> = { mp3: 100, aac: 100, opus: 0, flac: 0, wav: 0, pcm: 0 };

/** Decodes with Debian's ffmpeg; any message on stderr (-v error) counts as a decode error. */
function decode(format: AudioFormat, bytes: Buffer): { samples: number; errors: string } {
  const input = format === 'pcm' ? ['-f', 's16le', '-ar', String(OUTPUT_SAMPLE_RATE), '-ac', '1'] : [];
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', ...input, '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(OUTPUT_SAMPLE_RATE), 'pipe:1'], {
    input: bytes,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { samples: r.stdout.length / 2, errors: r.stderr.toString().trim() };
}

async function encodeAll(encoder: AudioEncoder, chunks: Iterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  encoder.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    encoder.once('end', resolve);
    encoder.once('error', reject);
  });
  for (const chunk of chunks) if (!encoder.write(chunk)) await new Promise((r) => encoder.once('drain', r));
  encoder.end();
  await ended;
  return Buffer.concat(out);
}

function* resampled(parts: Array<{ pcm: Speech; upTo?: number }>): Generator<Buffer> {
  for (const { pcm, upTo } of parts) {
    // One resampler per engine stream; flushed at the splice, as the gateway does on failover.
    const r = createResampler(pcm.sampleRate, OUTPUT_SAMPLE_RATE);
    const samples = pcm.samples.subarray(0, upTo);
    for (const chunk of sampleChunks(samples, pcm.sampleRate)) {
      const out = r.push(chunk);
      yield Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    const tail = r.flush();
    yield Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  }
}

describe.skipIf(!ffmpeg)('audio encoders (decoded by ffmpeg)', () => {
  let encoding: AudioEncoding;
  let slt: Speech;
  let kal: Speech;

  beforeAll(async () => {
    encoding = new AudioEncoding({ threads: 1 });
    await encoding.warm(); // also checks that warming leaves no session behind (below)
    slt = await speech('Text to speech is listened to while it plays. Every format streams.', 'slt');
    kal = await speech('A second engine at another rate takes over mid sentence.', 'kal');
  });
  afterAll(async () => {
    await encoding.close();
  });

  it.each(AUDIO_FORMATS)('%s: real speech at 24 kHz, written in odd-sized chunks, decodes cleanly at its length', async (format) => {
    const at24 = [...resampled([{ pcm: slt }])];
    const input = at24.reduce((n, b) => n + b.length, 0) / 2;
    const encoder = encoding.createEncoder(format, OUTPUT_SAMPLE_RATE);
    const bytes = await encodeAll(encoder, byteChunks(new Int16Array(Buffer.concat(at24).buffer.slice(0)), 11));
    const decoded = decode(format, bytes);
    expect(decoded.errors).toBe('');
    const extraMs = ((decoded.samples - input) / OUTPUT_SAMPLE_RATE) * 1000;
    expect(extraMs).toBeGreaterThanOrEqual(0);
    expect(extraMs).toBeLessThanOrEqual(EXTRA_MS[format]);
    expect(contentTypeOf(format)).toMatch(/^audio\//);
  });

  it.each(AUDIO_FORMATS)('%s: a failover splice of 16 kHz and 8 kHz engines through the resampler is one valid stream', async (format) => {
    const cut = Math.floor(slt.samples.length * 0.6);
    const expected = Math.ceil((cut * OUTPUT_SAMPLE_RATE) / slt.sampleRate) + Math.ceil((kal.samples.length * OUTPUT_SAMPLE_RATE) / kal.sampleRate);
    const encoder = encoding.createEncoder(format, OUTPUT_SAMPLE_RATE);
    const bytes = await encodeAll(encoder, resampled([{ pcm: slt, upTo: cut }, { pcm: kal }]));
    const decoded = decode(format, bytes);
    expect(decoded.errors).toBe('');
    const extraMs = ((decoded.samples - expected) / OUTPUT_SAMPLE_RATE) * 1000;
    expect(extraMs).toBeGreaterThanOrEqual(0);
    expect(extraMs).toBeLessThanOrEqual(EXTRA_MS[format]);
  });

  it.each(AUDIO_FORMATS)('%s: the same splice through setInputRate, resampled inside the encoder', async (format) => {
    const cut = Math.floor(slt.samples.length * 0.6);
    const expected = Math.ceil((cut * OUTPUT_SAMPLE_RATE) / slt.sampleRate) + Math.ceil((kal.samples.length * OUTPUT_SAMPLE_RATE) / kal.sampleRate);
    const encoder = encoding.createEncoder(format, OUTPUT_SAMPLE_RATE);
    function* spliced(): Generator<Buffer> {
      encoder.setInputRate(slt.sampleRate);
      yield* byteChunks(slt.samples.subarray(0, cut), 5);
      encoder.setInputRate(kal.sampleRate);
      yield* byteChunks(kal.samples, 6);
    }
    const bytes = await encodeAll(encoder, spliced());
    expect(encoder.inputRate).toBe(kal.sampleRate);
    const decoded = decode(format, bytes);
    expect(decoded.errors).toBe('');
    const extraMs = ((decoded.samples - expected) / OUTPUT_SAMPLE_RATE) * 1000;
    expect(extraMs).toBeGreaterThanOrEqual(0);
    expect(extraMs).toBeLessThanOrEqual(EXTRA_MS[format]);
  });

  it('encodes off the main thread: mp3, opus and flac on an encoder thread, aac in an ffmpeg process', async () => {
    for (const format of ['mp3', 'opus', 'flac', 'aac'] as const) {
      const encoder = encoding.createEncoder(format, OUTPUT_SAMPLE_RATE);
      await encodeAll(encoder, [Buffer.alloc(9600)]);
      const site = encoder.site();
      if (format === 'aac') expect(site).toMatchObject({ kind: 'process' });
      else expect(site).toMatchObject({ kind: 'thread' });
      if (site?.kind === 'thread') expect(site.threadId).not.toBe(threadId);
      if (site?.kind === 'process') expect(site.pid).not.toBe(process.pid);
    }
  });

  it('an encoder destroyed mid-stream frees its worker session', async () => {
    const before = encoding.pool.sessions();
    expect(before).toBe(0);
    const encoder = encoding.createEncoder('opus', OUTPUT_SAMPLE_RATE) as WorkerAudioEncoder;
    encoder.resume();
    expect(encoding.pool.sessions()).toBe(before + 1);
    for (const chunk of byteChunks(slt.samples.subarray(0, 8000), 3)) encoder.write(chunk);
    await new Promise((r) => setTimeout(r, 50));
    encoder.destroy();
    const result = await encoder.released;
    expect(result.completed).toBe(false);
    expect(encoding.pool.sessions()).toBe(before);
  });

  it('an ffmpeg encoder destroyed mid-stream kills its process', async () => {
    const encoder = encoding.createEncoder('aac', OUTPUT_SAMPLE_RATE) as FfmpegAudioEncoder;
    encoder.resume();
    encoder.write(Buffer.alloc(48_000));
    const site = encoder.site();
    expect(site?.kind).toBe('process');
    encoder.destroy();
    await encoder.exited;
    expect(() => process.kill((site as { pid: number }).pid, 0)).toThrow();
  });
});

describe('audio encoding without ffmpeg, failures and a full pool', () => {
  it('refuses aac with 400 unsupported_format when ffmpeg is missing, and keeps the npm formats', async () => {
    await using encoding = new AudioEncoding({ ffmpeg: '/nonexistent/ffmpeg', threads: 1 });
    await expect(encoding.assertAvailable('aac')).rejects.toMatchObject({ code: 'VOX_ERR_UNSUPPORTED_FORMAT', status: 400, wire: 'unsupported_format' });
    for (const format of ['mp3', 'opus', 'flac', 'wav', 'pcm'] as const) await expect(encoding.assertAvailable(format)).resolves.toBeUndefined();
  });

  it('reports a codec that cannot start as an error on the stream, and frees the session', async () => {
    await using encoding = new AudioEncoding({ threads: 1 });
    const encoder = encoding.createEncoder('opus', 22_050); // Opus has no 22.05 kHz mode
    encoder.resume();
    const failed = new Promise<Error>((resolve) => encoder.once('error', resolve));
    encoder.end(Buffer.alloc(4410));
    expect((await failed).message).toMatch(/cannot start the opus encoder/);
    await (encoder as WorkerAudioEncoder).released;
    expect(encoding.pool.sessions()).toBe(0);
  });

  it('keeps many responses apart: 8 concurrent flac streams on one thread, each decodable and complete', async () => {
    await using encoding = new AudioEncoding({ threads: 1 });
    const tone = (hz: number): Int16Array =>
      Int16Array.from({ length: OUTPUT_SAMPLE_RATE / 2 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / OUTPUT_SAMPLE_RATE)));
    const encoders = Array.from({ length: 8 }, () => encoding.createEncoder('flac', OUTPUT_SAMPLE_RATE) as WorkerAudioEncoder);
    expect(encoding.pool.sessions()).toBe(8);
    const outputs = await Promise.all(encoders.map((encoder, k) => encodeAll(encoder, byteChunks(tone(200 + 50 * k), k + 1))));
    // A session is counted until its worker has freed it, a message after the stream's end.
    await Promise.all(encoders.map((encoder) => encoder.released));
    expect(encoding.pool.sessions()).toBe(0);
    if (!ffmpeg) return;
    outputs.forEach((bytes, k) => {
      const r = spawnSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', 'pipe:1'], { input: bytes });
      // FLAC is lossless: each stream decodes to exactly its own tone.
      expect(Buffer.from(r.stdout).equals(Buffer.from(tone(200 + 50 * k).buffer))).toBe(true);
    });
  });

  it('refuses a session beyond capacity with 503 busy', async () => {
    await using pool = new EncoderPool({ threads: 1, sessionsPerThread: 1 });
    const first = pool.open('mp3', OUTPUT_SAMPLE_RATE);
    expect(() => pool.open('mp3', OUTPUT_SAMPLE_RATE)).toThrow(expect.objectContaining({ code: 'VOX_ERR_BUSY', status: 503 }));
    first.port.close();
    await first.done;
    expect(pool.sessions()).toBe(0);
  });
});
