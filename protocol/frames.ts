/**
 * The framed audio stream a node runtime answers a streaming synthesis with, and the gateway
 * reads. Both processes import this one file; docs/streaming.md describes the wire format.
 *
 *   frame  = type (u8) · length (u32 LE) · payload (length bytes)
 *   audio  (0x01): mono PCM s16le samples, in order
 *   end    (0x02): JSON `EndFrame` — how many samples and their CRC-32, so a reader can prove it
 *                  got every byte
 *   error  (0x03): JSON `ErrorFrame` — the node failed after the headers went out
 *
 * A body that stops without an end or error frame was cut: a failure everywhere, never a short
 * success (the chunked encoding alone cannot tell a finished stream from a dead node whose
 * proxy closed the connection cleanly).
 * @module
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';

export const FRAMES_CONTENT_TYPE = 'application/vnd.voxgate.frames';

export const FrameType = { audio: 0x01, end: 0x02, error: 0x03 } as const;
const HEADER_BYTES = 5;
/** No frame the runtime writes comes near this; a larger length means a corrupt stream. */
export const MAX_FRAME_BYTES = 16 * 2 ** 20;

export const EndFrameSchema = z.object({
  /** Samples carried by this response's audio frames (after any start offset). */
  samples: z.number().int().nonnegative(),
  /** CRC-32 (zlib) of every audio payload byte of this response, in order. */
  crc32: z.number().int().nonnegative(),
  sample_rate: z.number().int().positive(),
  compute_ms: z.number().nonnegative().optional(),
});
export type EndFrame = z.infer<typeof EndFrameSchema>;

export const ErrorFrameSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;

export type Frame = { type: 'audio'; pcm: Buffer } | { type: 'end'; end: EndFrame } | { type: 'error'; error: ErrorFrame };

function frame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt8(type, 0);
  out.writeUInt32LE(payload.length, 1);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export function audioFrame(pcm: Int16Array): Buffer {
  return frame(FrameType.audio, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
}

export function endFrame(end: EndFrame): Buffer {
  return frame(FrameType.end, Buffer.from(JSON.stringify(end)));
}

export function errorFrame(error: ErrorFrame): Buffer {
  return frame(FrameType.error, Buffer.from(JSON.stringify(error)));
}

/** Running sample count and CRC-32 over audio payloads, kept by writer and reader alike. */
export class StreamChecksum {
  samples = 0;
  crc = 0;
  add(pcm: Buffer): void {
    this.samples += pcm.length >> 1;
    this.crc = crc32(pcm, this.crc);
  }
  matches(end: EndFrame): boolean {
    return end.samples === this.samples && end.crc32 === this.crc;
  }
}

export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Incremental decoder: feed it the body's chunks as they arrive; it returns the whole frames
 * completed so far and keeps the partial rest. The chunks of a frame are joined once, when the
 * frame is complete, so a large frame arriving in many small chunks costs one copy, not one per
 * chunk.
 */
export class FrameDecoder {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const frames: Frame[] = [];
    while (this.#pendingBytes >= HEADER_BYTES) {
      const head = this.#head();
      const length = head.readUInt32LE(1);
      if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.#pendingBytes < HEADER_BYTES + length) break;
      const buf = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
      frames.push(parseFrame(head.readUInt8(0), buf.subarray(HEADER_BYTES, HEADER_BYTES + length)));
      const rest = buf.subarray(HEADER_BYTES + length);
      this.#pending = rest.length > 0 ? [rest] : [];
      this.#pendingBytes = rest.length;
    }
    return frames;
  }

  /** Bytes of a frame begun but not finished: non-zero at the end of a body means it was cut. */
  get partialBytes(): number {
    return this.#pendingBytes;
  }

  /** The next frame's header bytes, joining only the first chunks when it straddles them. */
  #head(): Buffer {
    const first = this.#pending[0]!;
    if (first.length >= HEADER_BYTES) return first;
    const joined = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [joined];
    return joined;
  }
}

function parseFrame(type: number, payload: Buffer): Frame {
  switch (type) {
    case FrameType.audio:
      if (payload.length % 2 !== 0) throw new FrameError('audio frame with an odd byte count');
      return { type: 'audio', pcm: payload };
    case FrameType.end:
      return { type: 'end', end: parseJson(EndFrameSchema, payload, 'end') };
    case FrameType.error:
      return { type: 'error', error: parseJson(ErrorFrameSchema, payload, 'error') };
    default:
      throw new FrameError(`unknown frame type ${type}`);
  }
}

/** A malformed end or error frame is a corrupt stream like any other: a FrameError. */
function parseJson<S extends z.ZodType>(schema: S, payload: Buffer, name: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new FrameError(`${name} frame is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new FrameError(`${name} frame invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
