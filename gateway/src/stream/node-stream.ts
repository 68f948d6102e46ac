/**
 * Reads one node's framed streaming answer (protocol/frames.ts) as PCM, proving it whole: the
 * end frame's sample count and CRC-32 must match what arrived. Everything else is a typed
 * failure from the gateway's catalogue, so the segment runner can resume elsewhere:
 *
 * - the body ends (or the connection drops) without an end frame, a frame is corrupt, or the
 *   checksum is wrong: `VOX_ERR_UPSTREAM_RESET` (the node or its link died);
 * - an error frame: `VOX_ERR_UPSTREAM_FAILURE` when the node says a retry may help, else
 *   `VOX_ERR_UPSTREAM_REJECTED` with the node's code;
 * - no bytes for `gapMs` while the reader waits for them — before the first audio frame or
 *   between two — `VOX_ERR_ATTEMPT_TIMEOUT` (the per-try timeout, applied to a stream: the
 *   attempt-timeout layer only bounds the time to the headers). The wait is measured only while
 *   the reader asks for data, so a slow client (back-pressure) never looks like a stalled node;
 * - audio slower than `minSpeed` × real time over a window of such waiting (a node that drips
 *   and so never trips the gap): `VOX_ERR_ATTEMPT_TIMEOUT` too;
 * - the deadline or the client leaving: the signal's own reason (the body is destroyed with it).
 *
 * The body is destroyed whenever reading stops early, which aborts the node request.
 *
 * A node that answers a whole WAV instead (a runtime from before streaming, during a rolling
 * upgrade) is read as one chunk, proven whole by its RIFF sizes; anything else is a failure.
 * @module
 */
import type { Readable } from 'node:stream';
import { FRAMES_CONTENT_TYPE, FrameDecoder, StreamChecksum, type EndFrame, type ErrorFrame } from '../../../protocol/frames.ts';
import { fromTransportError } from '../errors/from-upstream.ts';
import { GatewayError, isGatewayError, type UpstreamFacts } from '../errors/gateway-error.ts';
import type { UpstreamResponse } from '../upstream/service.ts';
import { WavLayoutError, wavLayout } from '../../../protocol/wav.ts';

/** A one-shot WAV answer larger than this is refused rather than held (a minute of 24 kHz is 2.9 MB). */
const MAX_WHOLE_WAV_BYTES = 64 * 2 ** 20;

export interface NodeStreamOptions {
  /** Longest wait for the next bytes (time to the first audio, then between chunks). */
  gapMs: number;
  /**
   * Slowest streaming allowed once audio began, in audio seconds per second of waiting, judged
   * over every `speedWindowMs` of waiting (absent or 0: not checked).
   */
  minSpeed?: number;
  speedWindowMs?: number;
}

/** What a whole stream said about itself (the end frame, checked). */
export interface StreamEnd {
  samples: number;
  sampleRate: number;
  computeMs?: number;
}

export function isFramedResponse(res: UpstreamResponse): boolean {
  return (res.headers['content-type'] ?? '').startsWith(FRAMES_CONTENT_TYPE);
}

/** The sample rate the node announced in its headers (the end frame repeats it). */
export function headerSampleRate(res: UpstreamResponse): number | undefined {
  const rate = Number(res.headers['x-sample-rate']);
  return Number.isInteger(rate) && rate > 0 ? rate : undefined;
}

function errorFromFrame(error: ErrorFrame, facts: UpstreamFacts): GatewayError {
  const upstream = { ...facts, code: error.code };
  if (error.retryable)
    return new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${facts.node} failed mid-stream: ${error.code}: ${error.message}`, { upstream });
  return new GatewayError('VOX_ERR_UPSTREAM_REJECTED', error.message, { upstream, wire: error.code, status: 422 });
}

function cut(facts: UpstreamFacts, why: string): GatewayError {
  return new GatewayError('VOX_ERR_UPSTREAM_RESET', `stream from node ${facts.node} ${why}`, { upstream: facts });
}

/**
 * Yields the PCM (s16le mono) payloads of a framed node response in order and returns its
 * checked end; throws a GatewayError on any failure (see the module comment).
 * @example
 * const pcm = readNodeStream(res, { gapMs: 3000 });
 * for (let r = await pcm.next(); !r.done; r = await pcm.next()) write(r.value);
 */
export async function* readNodeStream(res: UpstreamResponse, options: NodeStreamOptions): AsyncGenerator<Buffer, StreamEnd, void> {
  const facts: UpstreamFacts = { node: res.node, region: res.region, status: res.status };
  if (!isFramedResponse(res)) {
    if ((res.headers['content-type'] ?? '').startsWith('audio/wav')) {
      const pcm = wholeWavPcm(Buffer.isBuffer(res.body) ? res.body : await readWhole(res.body, facts), facts);
      if (pcm.pcm.length > 0) yield pcm.pcm;
      return { samples: pcm.pcm.length / 2, sampleRate: pcm.sampleRate };
    }
    if (!Buffer.isBuffer(res.body)) res.body.destroy();
    throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${res.node} answered ${res.headers['content-type'] ?? 'no content type'}, not a framed stream`, {
      upstream: facts,
    });
  }
  if (Buffer.isBuffer(res.body))
    throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${res.node} answered a framed stream the gateway buffered`, { upstream: facts });
  const body: Readable = res.body;
  const decoder = new FrameDecoder();
  const sum = new StreamChecksum();
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const pace = new Pace(options, headerSampleRate(res));
  let finished = false;
  // Errors reach us through the iterator; the listener only keeps an error emitted after we
  // stopped reading from becoming an uncaught exception.
  body.on('error', ignore);
  try {
    for (;;) {
      // One timer per wait (a wait is per network chunk, tens per segment at most).
      // eslint-disable-next-line no-restricted-globals -- not yet on the Clock (its owner's change); the gap is wall time on the socket.
      const timer = setTimeout(() => {
        body.destroy(new GatewayError('VOX_ERR_ATTEMPT_TIMEOUT', `node ${res.node} sent nothing for ${options.gapMs} ms mid-stream`, { upstream: facts }));
      }, options.gapMs);
      let r: IteratorResult<Buffer>;
      const waitFrom = performance.now();
      try {
        r = await it.next();
      } catch (err) {
        throw isGatewayError(err) ? err : fromTransportError(err, facts);
      } finally {
        clearTimeout(timer);
      }
      if (!r.done) pace.received(r.value.length, performance.now() - waitFrom);
      if (r.done)
        throw cut(
          facts,
          decoder.partialBytes > 0 ? `ended inside a frame after ${sum.samples} samples` : `ended without its end frame after ${sum.samples} samples`,
        );
      let frames;
      try {
        frames = decoder.push(r.value);
      } catch (err) {
        throw new GatewayError('VOX_ERR_UPSTREAM_RESET', `stream from node ${res.node} is corrupt: ${(err as Error).message}`, { upstream: facts, cause: err });
      }
      for (const frame of frames) {
        if (frame.type === 'audio') {
          sum.add(frame.pcm);
          if (frame.pcm.length > 0) yield frame.pcm;
        } else if (frame.type === 'error') throw errorFromFrame(frame.error, facts);
        else {
          checkEnd(frame.end, sum, facts);
          finished = true;
          return {
            samples: frame.end.samples,
            sampleRate: frame.end.sample_rate,
            ...(frame.end.compute_ms !== undefined ? { computeMs: frame.end.compute_ms } : {}),
          };
        }
      }
      const slow = pace.tooSlow();
      if (slow !== undefined)
        throw new GatewayError('VOX_ERR_ATTEMPT_TIMEOUT', `node ${res.node} streamed ${slow.toFixed(2)}× real time mid-stream (minimum ${options.minSpeed}×)`, {
          upstream: facts,
        });
    }
  } catch (err) {
    // Destroyed with the failure, so the balance layer's outlier detection counts it.
    if (!body.destroyed) body.destroy(err as Error);
    throw err;
  } finally {
    // Early exit (the consumer stopped): abort the node request. After the end frame only the
    // body's end is left: read it, so the connection goes back to the pool and the balance
    // layer hears 'close'.
    if (finished) void readToEnd(body, it, options.gapMs);
    else if (!body.destroyed) body.destroy();
  }
}

function ignore(): void {}

/**
 * The node's pace: body bytes received (PCM frames, a few bytes of framing each) per time spent
 * waiting for them, in windows of waiting that start with the first byte (the wait before it is
 * the engine's time to first audio, which the gap timer bounds). Bytes rather than whole frames,
 * so a node dripping one large frame is judged as it drips. Judged as each network chunk
 * arrives, over the window it closes, so a bursty engine (a sentence at a time) is judged on
 * what its bursts add up to.
 */
class Pace {
  readonly #minSpeed: number;
  readonly #windowMs: number;
  /** PCM16 mono bytes per second of audio. */
  readonly #bytesPerSecond: number;
  #started = false;
  #waitedMs = 0;
  #bytes = 0;

  constructor(options: NodeStreamOptions, sampleRate: number | undefined) {
    this.#minSpeed = options.minSpeed ?? 0;
    this.#windowMs = options.speedWindowMs ?? 0;
    this.#bytesPerSecond = 2 * (sampleRate ?? 0);
  }

  received(bytes: number, waitedMs: number): void {
    if (bytes === 0) return;
    if (this.#started) this.#waitedMs += waitedMs;
    this.#started = true;
    this.#bytes += bytes;
  }

  /** The window's speed when a closed window was below the minimum, else undefined. */
  tooSlow(): number | undefined {
    if (this.#minSpeed <= 0 || this.#windowMs <= 0 || this.#bytesPerSecond <= 0 || this.#waitedMs < this.#windowMs) return undefined;
    const speed = this.#bytes / this.#bytesPerSecond / (this.#waitedMs / 1000);
    this.#waitedMs = 0;
    this.#bytes = 0;
    return speed < this.#minSpeed ? speed : undefined;
  }
}

/**
 * Reads what follows the end frame: nothing but the body's end. Through the same iterator: with
 * its 'readable' listener attached, `resume()` would not make the body flow, and a body whose end
 * was never read never closes (the balance layer counted such requests in flight for ever).
 */
async function readToEnd(body: Readable, it: AsyncIterator<Buffer>, gapMs: number): Promise<void> {
  // eslint-disable-next-line no-restricted-globals -- not yet on the Clock (its owner's change); wall time on the socket, as the gap timer.
  const timer = setTimeout(() => body.destroy(), gapMs);
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.length > 0) return void body.destroy();
  } catch {
    // The node request is over either way; its failure after a whole stream changes nothing.
  } finally {
    clearTimeout(timer);
  }
}

async function readWhole(body: Readable, facts: UpstreamFacts): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > MAX_WHOLE_WAV_BYTES)
        throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${facts.node} answered a WAV over ${MAX_WHOLE_WAV_BYTES} bytes`, { upstream: facts });
      chunks.push(chunk);
    }
  } catch (err) {
    body.destroy();
    throw isGatewayError(err) ? err : fromTransportError(err, facts);
  }
  return Buffer.concat(chunks, bytes);
}

/** The mono PCM16 samples of a whole WAV, or a reset when its data is shorter than declared. */
function wholeWavPcm(wav: Buffer, facts: UpstreamFacts): { pcm: Buffer; sampleRate: number } {
  try {
    const { fmt, dataOffset, declaredBytes, presentBytes } = wavLayout(wav);
    if (fmt.format !== 1 || fmt.bitsPerSample !== 16 || fmt.channels !== 1)
      throw new WavLayoutError(`not mono PCM16 (format ${fmt.format}, ${fmt.bitsPerSample} bits, ${fmt.channels} channels)`);
    if (presentBytes < declaredBytes) throw cut(facts, `sent ${presentBytes} of the ${declaredBytes} WAV data bytes it declared`);
    // A copy: the body buffer may go back to a pool once the segment is delivered.
    return { pcm: Buffer.from(wav.subarray(dataOffset, dataOffset + (declaredBytes & ~1))), sampleRate: fmt.sampleRate };
  } catch (err) {
    if (isGatewayError(err)) throw err;
    throw new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${facts.node} answered a WAV the gateway cannot read: ${(err as Error).message}`, {
      upstream: facts,
      cause: err,
    });
  }
}

function checkEnd(end: EndFrame, sum: StreamChecksum, facts: UpstreamFacts): void {
  if (!sum.matches(end)) throw cut(facts, `failed its check: end frame says ${end.samples} samples crc ${end.crc32}, got ${sum.samples} crc ${sum.crc}`);
}
