/**
 * From a segment run to the client's byte stream: PCM at each node's rate → one sample rate for
 * the whole response (a resampler per run of equal rates, so a failover onto an engine with
 * another rate stays one valid stream) → the response format's streaming encoder → optionally
 * OpenAI's SSE events. Built with `stream.pipeline`, so the client leaving (the body destroyed)
 * stops the run, and a run that fails after the headers destroys the body (the client sees a cut
 * stream, never a short success).
 *
 * The codec pieces are injected (audio/ implements them) so this module owns only the plumbing.
 * @module
 */
import { PassThrough, Readable, pipeline, type Transform } from 'node:stream';
import { GatewayError } from '../errors/gateway-error.ts';
import type { SegmentRun, StreamEvent } from './segment-run.ts';

export interface PcmResampler {
  push(pcm: Int16Array): Int16Array;
  flush(): Int16Array;
}

export interface AudioOutCodecs {
  resampler(fromRate: number, toRate: number): PcmResampler;
  /** PCM s16le mono at `sampleRate` in, `format` bytes out. */
  encoder(sampleRate: number): Transform;
  /** Encoded bytes in, SSE events out (absent: raw audio); `announce` sends a notice event. */
  sse?: () => Transform & { announce(payload: { type: `voxgate.${string}` } & Record<string, unknown>): void };
}

export interface AudioOutOptions {
  outputRate: number;
  codecs: AudioOutCodecs;
  /** Non-audio events (model switches), as they pass. */
  onEvent?: (ev: Exclude<StreamEvent, { kind: 'audio' }>) => void;
  /** Keep a copy of the output PCM (for the shadow judge) up to this many bytes. */
  capturePcmBytes?: number;
}

export interface AudioOut {
  body: Readable;
  /** Samples at `outputRate` sent into the encoder so far. */
  samples(): number;
  /** The output PCM once the stream ended whole; undefined if it broke off or was too large. */
  pcm: Promise<Buffer | undefined>;
}

/** Input samples resampled at a time (a quarter second at 16 kHz). */
const RESAMPLE_SLICE_SAMPLES = 4096;

function int16(buf: Buffer): Int16Array {
  // Frame payloads can sit at an odd offset inside the network chunk: copy those.
  if (buf.byteOffset % 2 === 0) return new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
  const copy = Buffer.from(buf);
  return new Int16Array(copy.buffer, copy.byteOffset, copy.length >> 1);
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function bytes(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

/**
 * @example
 * const out = audioOut(run, { outputRate: 24000, codecs: { resampler: createResampler, encoder: (r) => createAudioEncoder('mp3', r) } });
 * writeReply(res, { kind: 'stream', body: out.body, ... });
 */
export function audioOut(run: SegmentRun, options: AudioOutOptions): AudioOut {
  const { outputRate, codecs } = options;
  let samples = 0;
  let resolvePcm!: (b: Buffer | undefined) => void;
  const pcm = new Promise<Buffer | undefined>((r) => (resolvePcm = r));
  const keep: Buffer[] = [];
  let kept = 0;
  let keeping = (options.capturePcmBytes ?? 0) > 0;
  const emit = (out: Int16Array): Buffer | undefined => {
    if (out.length === 0) return undefined;
    samples += out.length;
    const b = bytes(out);
    if (keeping) {
      kept += b.length;
      if (kept > options.capturePcmBytes!) {
        keeping = false;
        keep.length = 0;
      } else keep.push(Buffer.from(b));
    }
    return b;
  };

  const sse = codecs.sse?.();

  async function* source(): AsyncGenerator<Buffer> {
    let resampler: PcmResampler | undefined;
    let rate = 0;
    for await (const ev of run) {
      if (ev.kind !== 'audio') {
        options.onEvent?.(ev);
        sse?.announce({ type: 'voxgate.model_switch', segment: ev.segment, from: ev.from, to: ev.to, reason: ev.reason });
        continue;
      }
      if (ev.sampleRate !== rate) {
        if (resampler) {
          const tail = emit(resampler.flush());
          if (tail) yield tail;
        }
        rate = ev.sampleRate;
        resampler = rate === outputRate ? undefined : codecs.resampler(rate, outputRate);
      }
      const pcm = int16(ev.pcm);
      if (!resampler) {
        const out = emit(pcm);
        if (out) yield out;
        continue;
      }
      // A node's chunk can be a whole sentence (seconds of audio): resampled in slices, its
      // first part reaches the client while the rest is still being filtered, and the event loop
      // is never held for a whole chunk. The resampler's output does not depend on chunking.
      for (let at = 0; at < pcm.length; at += RESAMPLE_SLICE_SAMPLES) {
        const out = emit(resampler.push(pcm.subarray(at, at + RESAMPLE_SLICE_SAMPLES)));
        if (out) yield out;
      }
    }
    if (resampler) {
      const tail = emit(resampler.flush());
      if (tail) yield tail;
    }
    resolvePcm(keeping ? Buffer.concat(keep) : undefined);
  }

  const src = Readable.from(source(), { objectMode: false, highWaterMark: 16 * 1024 });
  const stages: (Readable | Transform)[] = [src, codecs.encoder(outputRate)];
  if (sse) stages.push(sse);
  // The tail is a plain PassThrough the request path hands on: its destroy() tears down the chain.
  const body = new PassThrough();
  // A run cancelled from inside (a reader too slow, a segment no node could finish) while the
  // chain is paused on back-pressure: nothing is pulling from it, so tear the chain down here.
  run.signal.addEventListener('abort', () => src.destroy(toError(run.signal.reason)));
  // The client leaving destroys the tail: cancel the run now. The pipeline's own callback waits
  // until every stage has closed, and the source cannot close while it awaits the next audio.
  body.once('close', () => {
    if (!body.readableEnded) run.cancel(new GatewayError('VOX_ERR_CLIENT_CLOSED', 'the client left'));
  });
  pipeline([...stages, body] as unknown as [Readable, PassThrough], (err) => {
    if (err) {
      resolvePcm(undefined);
      run.cancel(err);
    }
  });
  return { body, samples: () => samples, pcm };
}
