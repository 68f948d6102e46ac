import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { audioFrame, endFrame, errorFrame, FrameDecoder, FrameError, FrameType, MAX_FRAME_BYTES, StreamChecksum, type Frame } from '../../protocol/frames.ts';

function body(): { bytes: Buffer; pcm: Buffer } {
  const a = Int16Array.from({ length: 3000 }, (_, i) => ((i * 37) % 2000) - 1000);
  const b = Int16Array.from({ length: 5 }, (_, i) => i - 2);
  const pcm = Buffer.concat([Buffer.from(a.buffer), Buffer.from(b.buffer)]);
  const bytes = Buffer.concat([audioFrame(a), audioFrame(b), endFrame({ samples: pcm.length / 2, crc32: crc32(pcm), sample_rate: 16_000 })]);
  return { bytes, pcm };
}

function decodeIn(bytes: Buffer, sizes: (i: number) => number): { frames: Frame[]; decoder: FrameDecoder } {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes(i));
    frames.push(...decoder.push(bytes.subarray(at, at + n)));
    at += n;
  }
  return { frames, decoder };
}

describe('FrameDecoder', () => {
  it('decodes the same frames whatever the chunking, and the checksum verifies', () => {
    const { bytes, pcm } = body();
    for (const sizes of [() => bytes.length, () => 1, () => 4, () => 5, () => 6, (i: number) => 1 + ((i * 7919) % 97)]) {
      const { frames, decoder } = decodeIn(bytes, sizes);
      expect(frames.map((f) => f.type)).toEqual(['audio', 'audio', 'end']);
      const checksum = new StreamChecksum();
      for (const f of frames) if (f.type === 'audio') checksum.add(f.pcm);
      const end = frames[2]!;
      expect(end.type === 'end' && checksum.matches(end.end)).toBe(true);
      expect(Buffer.concat(frames.flatMap((f) => (f.type === 'audio' ? [f.pcm] : []))).equals(pcm)).toBe(true);
      expect(decoder.partialBytes).toBe(0);
    }
  });

  it('joins a large frame once, not per chunk', () => {
    const big = audioFrame(new Int16Array(2 ** 21)); // 4 MiB of audio
    const decoder = new FrameDecoder();
    const started = performance.now();
    let frames: Frame[] = [];
    for (let at = 0; at < big.length; at += 512) frames = frames.concat(decoder.push(big.subarray(at, at + 512)));
    expect(frames).toHaveLength(1);
    // Joining on every one of the 8,192 pushes would copy ~16 GiB; once, 4 MiB.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reports a cut body as partial bytes, and corrupt frames as FrameError', () => {
    const { bytes } = body();
    const decoder = new FrameDecoder();
    decoder.push(bytes.subarray(0, bytes.length - 3));
    expect(decoder.partialBytes).toBeGreaterThan(0);

    const header = (type: number, length: number) => Buffer.from([type, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, length >>> 24]);
    expect(() => new FrameDecoder().push(header(0x09, 0))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.concat([header(FrameType.audio, 3), Buffer.alloc(3)]))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(header(FrameType.audio, MAX_FRAME_BYTES + 1))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.concat([header(FrameType.end, 2), Buffer.from('{x')]))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.concat([header(FrameType.end, 2), Buffer.from('{}')]))).toThrow(FrameError);
    const error = new FrameDecoder().push(errorFrame({ code: 'engine_failure', message: 'boom', retryable: true }));
    expect(error).toEqual([{ type: 'error', error: { code: 'engine_failure', message: 'boom', retryable: true } }]);
  });
});
