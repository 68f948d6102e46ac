/**
 * Writes an engine's PCM chunks to a client as the framed stream of protocol/frames.ts: the
 * headers at once, one audio frame per chunk as the engine makes it, then an end frame (sample
 * count and CRC-32 of everything sent) or, when the engine fails after the headers, an error
 * frame. A response that stops without either was cut, and every reader treats it as a failure.
 *
 * Back-pressure: a frame is written only after the previous one drained into the socket, and
 * the engine is not asked for its next chunk until then, so a slow reader pauses synthesis
 * instead of growing a buffer (at most one chunk waits in memory). A client that leaves, or the
 * deadline firing, ends the wait at once and the engine is stopped within one step.
 * @module
 */
import type { ServerResponse } from 'node:http';
import { audioFrame, endFrame, errorFrame, FRAMES_CONTENT_TYPE, StreamChecksum } from '../../../protocol/frames.ts';
import { isStreamCut } from '../engines/engine.ts';
import { RuntimeError } from '../errors/runtime-error.ts';
import { normaliseError } from '../errors/to-response.ts';
import { ClientGoneError } from '../scheduler/deadline.ts';

export type StreamOutcome =
  /** Every chunk and the end frame were handed to the socket. */
  | 'complete'
  /** The engine or the deadline failed the request; an error frame said so. */
  | 'failed'
  /** Dropped without a final frame: the engine asked for it, or the reader stalled past the deadline. */
  | 'cut'
  /** The client left; nothing more could be sent. */
  | 'client_gone';

export interface FrameStreamResult {
  outcome: StreamOutcome;
  /** The failure, for every outcome but `complete`. */
  error?: unknown;
  /** What went into the error frame, when one was written. */
  errorCode?: string;
  chunks: number;
  samples: number;
  /** Time spent waiting on the engine, not on the reader: what the real-time factor is made of. */
  engineMs: number;
  /** From the start of the stream to the first audio frame handed to the socket. */
  firstChunkMs: number | undefined;
}

export interface FrameStreamOptions {
  response: ServerResponse;
  /** Sent with the 200; content-type and cache headers are added here. */
  headers: Record<string, string>;
  chunks: AsyncIterable<Int16Array>;
  sampleRate: number;
  /** The request's signal: deadline or client gone. */
  signal: AbortSignal;
}

/**
 * @example
 * const result = await writeFrameStream({ response: c.env.outgoing, headers, chunks: engine.stream(req), sampleRate, signal });
 * // result.outcome === 'complete' → the end frame is out
 */
export async function writeFrameStream(options: FrameStreamOptions): Promise<FrameStreamResult> {
  const { response, signal } = options;
  response.writeHead(200, { ...options.headers, 'content-type': FRAMES_CONTENT_TYPE, 'cache-control': 'no-store' });
  // Headers go out now, not with the first frame: the caller learns at once that a node took it.
  response.flushHeaders();

  const started = performance.now();
  const checksum = new StreamChecksum();
  const result: FrameStreamResult = { outcome: 'complete', chunks: 0, samples: 0, engineMs: 0, firstChunkMs: undefined };
  const iterator = options.chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const asked = performance.now();
      const next = await iterator.next();
      result.engineMs += performance.now() - asked;
      if (next.done) break;
      if (next.value.length === 0) continue;
      checksum.add(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      await writeDrained(response, audioFrame(next.value), signal);
      result.chunks++;
      result.firstChunkMs ??= performance.now() - started;
    }
    result.samples = checksum.samples;
    response.end(endFrame({ samples: checksum.samples, crc32: checksum.crc, sample_rate: options.sampleRate, compute_ms: Math.round(result.engineMs) }));
    return result;
  } catch (error) {
    result.samples = checksum.samples;
    // Stops the engine when the failure was ours (the reader left or stalled), not the engine's.
    await iterator.return?.().catch(() => undefined);
    return { ...result, ...finish(response, error, signal) };
  }
}

function finish(response: ServerResponse, error: unknown, signal: AbortSignal): Pick<FrameStreamResult, 'outcome' | 'error' | 'errorCode'> {
  const reason: unknown = signal.aborted ? signal.reason : error;
  if (reason instanceof ClientGoneError || response.destroyed) {
    response.destroy();
    return { outcome: 'client_gone', error: reason };
  }
  // A reader that let the socket fill would never read the error frame: cut it loose instead.
  if (isStreamCut(reason) || response.writableNeedDrain) {
    response.destroy();
    return { outcome: 'cut', error: reason };
  }
  const failure = normaliseError(reason) ?? new RuntimeError('internal', 'internal error');
  response.end(errorFrame({ code: failure.code, message: failure.message, retryable: failure.retryable }));
  return { outcome: 'failed', error: reason, errorCode: failure.code };
}

/** Resolves once `frame` is in the socket's buffer below its high-water mark. */
function writeDrained(response: ServerResponse, frame: Buffer, signal: AbortSignal): Promise<void> {
  if (response.destroyed) return Promise.reject(new ClientGoneError('client closed the connection'));
  if (response.write(frame)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new ClientGoneError('client closed the connection'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    response.on('drain', onDrain);
    response.on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
