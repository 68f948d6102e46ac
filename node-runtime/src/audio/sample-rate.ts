/**
 * A synthesis request's `sample_rate`: the node answers at the rate the caller asks for, so the
 * gateway (one shared process in front of many nodes) does not spend its CPU resampling every
 * engine's audio to the response rate; nodes scale out, the gateway does not. The resampler is
 * the one both processes import (protocol/resampler.ts): exact and independent of chunking, so
 * a stream resampled chunk by chunk equals the whole clip resampled at once, and a stream resumed
 * at an offset of resampled samples continues byte-exactly.
 * @module
 */
import { createResampler } from '../../../protocol/resampler.ts';
import type { SynthesisResult } from '../engines/engine.ts';

/** The rates a request may ask for (advertised in `GET /v1/load` as `output_sample_rates`). */
export const OUTPUT_SAMPLE_RATES = { min: 8_000, max: 48_000 } as const;

/**
 * Input samples resampled at a time: a sentence-long engine chunk goes out as several frames, the
 * stream's first after a quarter second of audio is filtered rather than the whole sentence. The
 * rest go in larger slices: by then the listener has audio in hand, and every frame costs a write
 * here, a read, a checksum and a write at the gateway (4,096 throughout made ~18 frames of a
 * flite sentence; 32,768 took the gateway's CPU per 600-character segment from ~90 to ~57 ms).
 */
const FIRST_SLICE_SAMPLES = 4096;
const SLICE_SAMPLES = 32_768;

/**
 * An engine's stream at `toRate`; the resampler's tail is flushed when the engine ends. Closing
 * the returned iterator closes the engine's (the engine stops within one step).
 * @example
 * const chunks = resampleChunks(engine.stream(request), engine.describe().sampleRate, 24_000);
 */
export async function* resampleChunks(chunks: AsyncIterable<Int16Array>, fromRate: number, toRate: number): AsyncGenerator<Int16Array> {
  if (fromRate === toRate) {
    yield* chunks;
    return;
  }
  const resampler = createResampler(fromRate, toRate);
  let slice = FIRST_SLICE_SAMPLES;
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length;) {
      const out = resampler.push(chunk.subarray(at, at + slice));
      at += slice;
      if (out.length > 0) {
        slice = SLICE_SAMPLES;
        yield out;
      }
    }
  }
  const tail = resampler.flush();
  if (tail.length > 0) yield tail;
}

/** A one-shot result at `toRate` (the same samples a stream at that rate delivers). */
export function resampleResult(result: SynthesisResult, toRate: number): SynthesisResult {
  if (result.sampleRate === toRate) return result;
  const resampler = createResampler(result.sampleRate, toRate);
  const head = resampler.push(result.pcm);
  const tail = resampler.flush();
  const pcm = new Int16Array(head.length + tail.length);
  pcm.set(head);
  pcm.set(tail, head.length);
  return { ...result, pcm, sampleRate: toRate };
}
