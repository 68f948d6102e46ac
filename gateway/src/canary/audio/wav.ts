/**
 * Decodes what a node runtime returns into float samples: a RIFF/WAVE file (PCM16, PCM8/24/32 or
 * float32, any channel count: channels are averaged) or raw PCM16LE whose rate comes from the
 * node's `x-sample-rate` header. The judge never trusts the header over the WAV's own `fmt `.
 * @module
 */
import { isRiffWave, wavLayout, WavLayoutError, type WavLayout } from '../../../../protocol/wav.ts';

export interface Audio {
  samples: Float32Array;
  sampleRate: number;
}

export class AudioDecodeError extends Error {
  readonly code = 'VOX_CANARY_BAD_AUDIO';
}

/**
 * @example
 * const { samples, sampleRate } = decodeAudio(bytes, 16000);
 */
export function decodeAudio(bytes: Uint8Array, fallbackRate: number | undefined): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isRiffWave(bytes)) {
    if (!fallbackRate) throw new AudioDecodeError('raw PCM without a sample rate');
    return { samples: pcm16(view, 0, bytes.length - (bytes.length % 2), 1), sampleRate: fallbackRate };
  }
  let layout: WavLayout;
  try {
    layout = wavLayout(bytes);
  } catch (err) {
    if (err instanceof WavLayoutError) throw new AudioDecodeError(err.message);
    throw err;
  }
  // Streamed WAVs may carry 0xFFFFFFFF as the data size: the bytes present are read then.
  const { fmt } = layout;
  return {
    samples: decodeData(view, layout.dataOffset, layout.presentBytes, { format: fmt.format, channels: fmt.channels, bits: fmt.bitsPerSample }),
    sampleRate: fmt.sampleRate,
  };
}

function decodeData(view: DataView, start: number, size: number, fmt: { format: number; channels: number; bits: number }): Float32Array {
  const ch = Math.max(1, fmt.channels);
  if (fmt.format === 1 && fmt.bits === 16) return pcm16(view, start, size, ch);
  const bytesPer = fmt.bits / 8;
  const frames = Math.floor(size / (bytesPer * ch));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < ch; c++) {
      const p = start + (i * ch + c) * bytesPer;
      if (fmt.format === 3 && fmt.bits === 32) acc += view.getFloat32(p, true);
      else if (fmt.format === 1 && fmt.bits === 8) acc += (view.getUint8(p) - 128) / 128;
      else if (fmt.format === 1 && fmt.bits === 24) acc += (view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) / 8388608;
      else if (fmt.format === 1 && fmt.bits === 32) acc += view.getInt32(p, true) / 2147483648;
      else throw new AudioDecodeError(`unsupported WAV format ${fmt.format}/${fmt.bits} bit`);
    }
    out[i] = acc / ch;
  }
  return out;
}

function pcm16(view: DataView, start: number, size: number, ch: number): Float32Array {
  const frames = Math.floor(size / (2 * ch));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < ch; c++) acc += view.getInt16(start + (i * ch + c) * 2, true);
    out[i] = acc / ch / 32768;
  }
  return out;
}

/** PCM16 mono WAV bytes: used by tests and to hand 16 kHz audio to pocketsphinx. */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const tag = (o: number, s: string) => {
    for (let i = 0; i < 4; i++) out[o + i] = s.charCodeAt(i);
  };
  tag(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  tag(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    v.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return out;
}
