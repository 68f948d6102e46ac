import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../gateway/src/canary/audio/wav.ts';
import { wavProblem } from '../../gateway/src/upstream/wav-integrity.ts';
import { decodeWav, encodeWav } from '../../node-runtime/src/audio/wav.ts';
import { wavLayout, WavLayoutError } from '../../protocol/wav.ts';

const pcm = Int16Array.from({ length: 1_000 }, (_, i) => Math.round(Math.sin(i / 10) * 10_000));
const wav = encodeWav(pcm, 16_000);

/** A WAV with a LIST chunk (odd size, padded) between fmt and data, as other writers produce. */
function withListChunk(): Buffer {
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
  const out = Buffer.concat([wav.subarray(0, 36), list, wav.subarray(36)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

describe('protocol/wav: one chunk walker for node, gateway and judge', () => {
  it('finds fmt and data, across other chunks', () => {
    for (const bytes of [wav, withListChunk()]) {
      const l = wavLayout(bytes);
      expect(l.fmt).toEqual({ format: 1, channels: 1, sampleRate: 16_000, bitsPerSample: 16 });
      expect(l.declaredBytes).toBe(2_000);
      expect(l.presentBytes).toBe(2_000);
      expect(decodeWav(bytes).samples).toEqual(pcm);
      expect(wavProblem(bytes)).toBeNull();
      expect(decodeAudio(bytes, undefined).samples.length).toBe(1_000);
    }
  });

  it('a cut WAV: the node and the gateway refuse it, the judge reads what is there', () => {
    const cut = wav.subarray(0, wav.length - 100);
    expect(wavLayout(cut)).toMatchObject({ declaredBytes: 2_000, presentBytes: 1_900 });
    expect(wavProblem(cut)).toBe('data chunk declares 2000 bytes, 1900 present');
    expect(() => decodeWav(cut)).toThrow(/truncated: data chunk declares 2000 bytes, 1900 present/);
    expect(decodeAudio(cut, undefined).samples.length).toBe(950);
  });

  it('says what is wrong with a body that is not a WAV', () => {
    expect(() => wavLayout(Buffer.from('not audio at all'))).toThrow(WavLayoutError);
    expect(wavProblem(Buffer.from('not audio at all'))).toBe('not a RIFF/WAVE body');
    expect(wavProblem(wav.subarray(0, 36))).toBe('no data chunk');
    const dataFirst = Buffer.concat([wav.subarray(0, 12), wav.subarray(36)]);
    expect(wavProblem(dataFirst)).toBe('data chunk before fmt chunk');
  });
});
