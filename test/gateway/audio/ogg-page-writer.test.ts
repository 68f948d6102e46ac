import { describe, expect, it } from 'vitest';
import { OggPageWriter, oggCrc } from '../../../gateway/src/audio/ogg-page-writer.ts';

/** Bit-by-bit CRC-32 (poly 0x04C11DB7, MSB first, init 0), independent of the table version. */
function slowCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    crc >>>= 0;
  }
  return crc;
}

interface Page {
  type: number;
  granule: bigint;
  sequence: number;
  segments: number[];
  body: Uint8Array;
}

function parse(pages: Uint8Array[]): Page[] {
  return pages.map((page) => {
    const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    expect(String.fromCharCode(...page.subarray(0, 4))).toBe('OggS');
    const crc = view.getUint32(22, true);
    const zeroed = page.slice();
    zeroed.fill(0, 22, 26);
    expect(crc).toBe(slowCrc(zeroed));
    const n = page[26]!;
    const segments = [...page.subarray(27, 27 + n)];
    const body = page.subarray(27 + n);
    expect(body.length).toBe(segments.reduce((a, b) => a + b, 0));
    return { type: page[5]!, granule: view.getBigInt64(6, true), sequence: view.getUint32(18, true), segments, body };
  });
}

/** Reassembles packets from lacing values across pages. */
function packets(pages: Page[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let current: number[] = [];
  for (const page of pages) {
    let at = 0;
    for (const len of page.segments) {
      current.push(...page.body.subarray(at, at + len));
      at += len;
      if (len < 255) {
        out.push(Uint8Array.from(current));
        current = [];
      }
    }
  }
  return out;
}

describe('OggPageWriter', () => {
  it('computes the Ogg CRC-32', () => {
    const bytes = new TextEncoder().encode('The quick brown fox jumps over the lazy dog');
    expect(oggCrc(bytes)).toBe(slowCrc(bytes));
    expect(oggCrc(new Uint8Array(0))).toBe(0);
  });

  it('laces packets of every awkward size, splits big ones across pages, and marks BOS, continuation and EOS', () => {
    const writer = new OggPageWriter(0x1234);
    const sizes = [0, 1, 254, 255, 256, 510, 70_000, 3];
    const input = sizes.map((n, i) => ({ data: Uint8Array.from({ length: n }, (_, k) => (k * 7 + i) & 0xff), granule: BigInt((i + 1) * 960) }));
    const first = parse(writer.pages(input.slice(0, 6)));
    const rest = parse(writer.pages(input.slice(6), { last: true }));
    const all = [...first, ...rest];
    expect(all.map((p) => p.sequence)).toEqual(all.map((_, i) => i));
    expect(all[0]!.type & 0x02).toBe(0x02);
    expect(all.slice(1).every((p) => (p.type & 0x02) === 0)).toBe(true);
    expect(all.at(-1)!.type & 0x04).toBe(0x04);
    expect(all.slice(0, -1).every((p) => (p.type & 0x04) === 0)).toBe(true);
    // 70 000 bytes need 275 segments: the page after a full one continues the packet.
    expect(rest.length).toBeGreaterThan(1);
    expect(rest[1]!.type & 0x01).toBe(0x01);
    expect(rest[0]!.granule).toBe(-1n); // no packet ends on it
    expect(rest.at(-1)!.granule).toBe(8n * 960n);
    expect(first.at(-1)!.granule).toBe(6n * 960n);
    const got = packets(all);
    expect(got.map((p) => p.length)).toEqual(sizes);
    got.forEach((p, i) => expect(Buffer.from(p).equals(Buffer.from(input[i]!.data))).toBe(true));
  });
});
