/**
 * Base16384 (spec §9.2): bytes read as a big-endian bit stream, cut into 14-bit values, each
 * written as the character U+4E00 + value; 7 bytes → 4 characters. A trailing partial group of
 * r bytes is left-aligned in ⌈8r/14⌉ characters and followed by the marker U+3D00 + r.
 * ChatTTS speaker strings and spk_stat use it; it is small enough to write here.
 * @module
 */

const BASE = 0x4e00;
const TRAILER = 0x3d00;

export function decodeBase16384(text: string): Uint8Array {
  const codes = Array.from(text, (c) => c.codePointAt(0)!);
  let r = 0;
  const last = codes[codes.length - 1];
  if (last !== undefined && last > TRAILER && last <= TRAILER + 6) {
    r = last - TRAILER;
    codes.pop();
  }
  for (const c of codes) {
    if (c < BASE || c > BASE + 0x3fff) throw new Error(`base16384: character U+${c.toString(16)} is outside U+4E00–U+8DFF`);
  }
  const partialChars = r === 0 ? 0 : Math.ceil((8 * r) / 14);
  const fullGroups = Math.floor((codes.length - partialChars) / 4);
  if (fullGroups * 4 + partialChars !== codes.length) throw new Error('base16384: length does not match its trailer');
  const out = new Uint8Array(fullGroups * 7 + r);
  const group = new Uint8Array(7);
  for (let g = 0; g * 4 < codes.length; g++) {
    // 56 bits do not fit a JS bit-op; split into a high 28 and a low 28 bits.
    const v = [0, 1, 2, 3].map((j) => (codes[g * 4 + j] ?? BASE) - BASE);
    const hi = v[0]! * 0x4000 + v[1]!;
    const lo = v[2]! * 0x4000 + v[3]!;
    group[0] = hi >>> 20;
    group[1] = (hi >>> 12) & 0xff;
    group[2] = (hi >>> 4) & 0xff;
    group[3] = ((hi & 0xf) << 4) | (lo >>> 24);
    group[4] = (lo >>> 16) & 0xff;
    group[5] = (lo >>> 8) & 0xff;
    group[6] = lo & 0xff;
    const n = Math.min(7, out.length - g * 7);
    out.set(group.subarray(0, n), g * 7);
  }
  return out;
}

export function encodeBase16384(data: Uint8Array): string {
  const chars: number[] = [];
  for (let i = 0; i < data.length; i += 7) {
    const b = (k: number) => data[i + k] ?? 0;
    const hi = b(0) * 0x100000 + b(1) * 0x1000 + b(2) * 0x10 + (b(3) >>> 4);
    const lo = (b(3) & 0xf) * 0x1000000 + b(4) * 0x10000 + b(5) * 0x100 + b(6);
    const v = [Math.floor(hi / 0x4000), hi % 0x4000, Math.floor(lo / 0x4000), lo % 0x4000];
    const r = data.length - i;
    const n = r >= 7 ? 4 : Math.ceil((8 * r) / 14);
    for (let j = 0; j < n; j++) chars.push(BASE + v[j]!);
    if (r < 7) chars.push(TRAILER + r);
  }
  return String.fromCodePoint(...chars);
}
