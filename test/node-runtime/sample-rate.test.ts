/**
 * `sample_rate` on `POST /v1/synthesize`: a real node process with flite (16 kHz) and flite-fast
 * (8 kHz) answering at 24 kHz over real HTTP, streamed and one-shot, and a stream resumed at an
 * offset of resampled samples joining the first part byte-exactly.
 */
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResampler } from '../../protocol/resampler.ts';
import { decodeWav } from '../../node-runtime/src/audio/wav.ts';
import { streamSynthesis } from './support/frames-client.ts';
import { LONG_TEXT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

let node: RuntimeProcess;

beforeAll(async () => {
  node = await startRuntime(['--node-id', 'rate-1', '--models-dir', 'models', '--models', 'flite,flite-fast', '--slots', '2', '--queue', '4']);
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

/** The whole clip resampled at once: what every chunking must reproduce exactly. */
function resampled(pcm: Buffer, from: number, to: number): Buffer {
  const r = createResampler(from, to);
  const input = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
  return Buffer.concat([r.push(input), r.flush()].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

describe('sample_rate: the node answers at the rate asked for', () => {
  it.each([
    ['flite', 16_000],
    ['flite-fast', 8000],
  ])('%s (%i Hz) streams at 24 kHz: headers, end frame and samples say so, equal to the native stream resampled whole', async (model, native) => {
    const nativeRead = await streamSynthesis(node.url, { text: LONG_TEXT, model });
    expect(nativeRead.headers['x-sample-rate']).toBe(String(native));
    expect(nativeRead.end).toMatchObject({ sample_rate: native });

    const read = await streamSynthesis(node.url, { text: LONG_TEXT, model, sample_rate: 24_000 });
    expect(read.status).toBe(200);
    expect(read.headers['x-sample-rate']).toBe('24000');
    expect(read.cut).toBe(false);
    expect(read.end).toMatchObject({ sample_rate: 24_000, samples: read.pcm.length / 2 });
    expect(read.end!.crc32).toBe(crc32(read.pcm));
    const nativeSamples = nativeRead.pcm.length / 2;
    expect(read.pcm.length / 2).toBe(Math.ceil((nativeSamples * 24_000) / native));
    expect(read.pcm.equals(resampled(nativeRead.pcm, native, 24_000))).toBe(true);
    // Sentence-long engine chunks go out in slices: more frames than sentences. The stream's first
    // after a quarter second of engine audio (4,096 samples at 16 kHz), the rest in larger slices
    // (up to 32,768 engine samples): fewer frames to write, read and check.
    expect(read.audioFrames).toBeGreaterThan(nativeRead.audioFrames);
    const at24k = (engineSamples: number) => Math.ceil((engineSamples * 24_000) / native);
    expect(read.frameSamples[0]!).toBeLessThanOrEqual(at24k(4096));
    expect(Math.max(...read.frameSamples)).toBeGreaterThan(at24k(4096));
    expect(Math.max(...read.frameSamples)).toBeLessThanOrEqual(at24k(32_768) + 64);
  });

  it('a stream cut after its first frame and resumed at the delivered offset is byte-identical to the uninterrupted one', async () => {
    const body = { text: LONG_TEXT, model: 'flite', sample_rate: 24_000 };
    const whole = await streamSynthesis(node.url, body);
    const cut = await streamSynthesis(node.url, body, { onAudio: () => true });
    expect(cut.audioFrames).toBe(1);
    expect(cut.end).toBeUndefined();
    const delivered = cut.pcm.length / 2;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(whole.pcm.length / 2);
    // Leaving closes the resampling stream and, through it, the engine: the slot comes back.
    const gone = await waitForLog(node, (l) => l.stream === true && l.stream_outcome === 'client_gone', 5000);
    expect(gone).toBeDefined();
    const rest = await streamSynthesis(node.url, { ...body, offset_samples: delivered });
    expect(rest.headers['x-offset-samples']).toBe(String(delivered));
    expect(rest.end).toMatchObject({ sample_rate: 24_000, samples: whole.pcm.length / 2 - delivered });
    expect(Buffer.concat([cut.pcm, rest.pcm]).equals(whole.pcm)).toBe(true);

    // Anywhere else too, inside a frame, at a frame's edge, at and past the end.
    const samples = whole.pcm.length / 2;
    for (const offset of [1, 7777, whole.frameSamples[0]! + 1, samples - 1, samples, samples + 50]) {
      const tail = await streamSynthesis(node.url, { ...body, offset_samples: offset });
      expect(tail.pcm.equals(whole.pcm.subarray(Math.min(offset, samples) * 2)), `offset ${offset}`).toBe(true);
      expect(tail.checksum.matches(tail.end!)).toBe(true);
    }
  });

  it('one-shot answers honour it: a 24 kHz WAV header with the streamed samples, offsets at that rate', async () => {
    const streamed = await streamSynthesis(node.url, { text: LONG_TEXT, model: 'flite-fast', sample_rate: 24_000 });
    const res = await synthesize(node.url, { text: LONG_TEXT, model: 'flite-fast', sample_rate: 24_000 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sample-rate')).toBe('24000');
    const wav = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(wav.sampleRate).toBe(24_000);
    expect(Buffer.from(wav.samples.buffer).equals(streamed.pcm)).toBe(true);
    expect(Number(res.headers.get('x-audio-ms'))).toBe(Math.round((wav.samples.length / 24_000) * 1000));

    const pcm = await synthesize(node.url, { text: LONG_TEXT, model: 'flite-fast', sample_rate: 24_000, format: 'pcm', offset_samples: 999 });
    expect(Buffer.from(await pcm.arrayBuffer()).equals(streamed.pcm.subarray(999 * 2))).toBe(true);
  });

  it('the engine’s own rate asked for, or none, is the native answer', async () => {
    const none = await streamSynthesis(node.url, { text: 'Same rate.', model: 'flite' });
    const same = await streamSynthesis(node.url, { text: 'Same rate.', model: 'flite', sample_rate: 16_000 });
    expect(same.headers['x-sample-rate']).toBe('16000');
    expect(same.pcm.equals(none.pcm)).toBe(true);
  });

  it('refuses a rate outside the advertised range or not an integer with 400 invalid_request, and /v1/load advertises the range', async () => {
    for (const sample_rate of [4000, 96_000, 22_050.5, '24000']) {
      const res = await synthesize(node.url, { text: 'Bad rate.', sample_rate });
      expect(res.status, String(sample_rate)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { output_sample_rates: unknown };
    expect(load.output_sample_rates).toEqual({ min: 8000, max: 48_000 });
  });
});
