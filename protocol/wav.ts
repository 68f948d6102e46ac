/**
 * The one RIFF/WAVE chunk walker. A node runtime writes WAVs, the gateway checks a buffered one
 * is whole before forwarding it, and the canary judge decodes them; all three read the layout
 * here and decide for themselves what a short `data` chunk means (the gateway and node refuse
 * it; the judge reads a streamed WAV, whose size field may be 0xFFFFFFFF, to the end).
 * @module
 */

export interface WavFormat {
  /** 1 PCM, 3 IEEE float (WAVE_FORMAT_EXTENSIBLE resolved to its sub-format). */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

export interface WavLayout {
  fmt: WavFormat;
  /** Where the `data` chunk's bytes start. */
  dataOffset: number;
  /** The size the `data` chunk declares. */
  declaredBytes: number;
  /** The bytes of it present in the buffer (less than declared when cut, or streamed). */
  presentBytes: number;
}

export class WavLayoutError extends Error {}

const RIFF = 0x52494646;
const WAVE = 0x57415645;
const FMT = 0x666d7420;
const DATA = 0x64617461;

/** True when the bytes start with a RIFF/WAVE header. */
export function isRiffWave(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(0, false) === RIFF && view.getUint32(8, false) === WAVE;
}

/**
 * Walks the chunks up to `data`; throws `WavLayoutError` when the bytes are not RIFF/WAVE, the
 * `fmt ` chunk is short or missing before `data`, or there is no `data` chunk.
 * @example
 * const { fmt, dataOffset, declaredBytes, presentBytes } = wavLayout(body);
 */
export function wavLayout(bytes: Uint8Array): WavLayout {
  if (!isRiffWave(bytes)) throw new WavLayoutError('not a RIFF/WAVE body');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: WavFormat | undefined;
  let off = 12;
  while (off + 8 <= bytes.length) {
    const id = view.getUint32(off, false);
    const declared = view.getUint32(off + 4, true);
    const body = off + 8;
    const present = Math.min(declared, bytes.length - body);
    if (id === FMT) {
      if (present < 16) throw new WavLayoutError('short fmt chunk');
      let format = view.getUint16(body, true);
      if (format === 0xfffe && present >= 26) format = view.getUint16(body + 24, true);
      fmt = { format, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bitsPerSample: view.getUint16(body + 14, true) };
    } else if (id === DATA) {
      if (!fmt) throw new WavLayoutError('data chunk before fmt chunk');
      return { fmt, dataOffset: body, declaredBytes: declared, presentBytes: present };
    }
    off = body + declared + (declared % 2);
  }
  throw new WavLayoutError('no data chunk');
}
