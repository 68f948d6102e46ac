/**
 * Ogg pages (RFC 3533) for one logical stream: enough to carry Opus (RFC 7845) as it is made.
 * No npm Ogg muxer fits a streaming Node encoder: the maintained ones are parts of whole media
 * toolkits (mediabunny, libav.js) that bring their own encoder pipeline and threads; the page
 * format itself is a 27-byte header, lacing values and a CRC.
 * @module
 */

const CRC_TABLE = (() => {
  // Ogg's CRC-32: polynomial 0x04C11DB7, MSB first, initial value 0, no final XOR (RFC 3533 §6).
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

const HEADER_TYPE_CONTINUED = 0x01;
const HEADER_TYPE_BOS = 0x02;
const HEADER_TYPE_EOS = 0x04;
const MAX_SEGMENTS = 255;

export interface OggPacket {
  data: Uint8Array;
  /** Granule position at the end of this packet (for Opus: 48 kHz samples incl. pre-skip). */
  granule: bigint;
}

export class OggPageWriter {
  #sequence = 0;

  constructor(private readonly serial: number) {}

  /**
   * Pages holding `packets` in order; each packet carries the granule position at its end. A page
   * carries the granule of the last packet that ends on it, or -1 when none does (RFC 3533); a
   * packet too big for the rest of a page continues on the next. `last` marks end of stream.
   */
  pages(packets: readonly OggPacket[], flags: { last?: boolean } = {}): Uint8Array[] {
    const out: Uint8Array[] = [];
    let lacing: number[] = [];
    let body: Uint8Array[] = [];
    let startsContinued = false;
    let granule = -1n;
    const emit = (final: boolean): void => {
      const type = (startsContinued ? HEADER_TYPE_CONTINUED : 0) | (this.#sequence === 0 ? HEADER_TYPE_BOS : 0) | (final && flags.last ? HEADER_TYPE_EOS : 0);
      out.push(this.#page(type, granule, lacing, body));
      lacing = [];
      body = [];
      granule = -1n;
    };
    for (const packet of packets) {
      let offset = 0;
      // A packet is lacing values of 255 ending with one below 255 (0 when its length is a multiple of 255).
      for (;;) {
        if (lacing.length === MAX_SEGMENTS) {
          emit(false);
          startsContinued = offset > 0;
        }
        const take = Math.min(255, packet.data.length - offset);
        lacing.push(take);
        body.push(packet.data.subarray(offset, offset + take));
        offset += take;
        if (take < 255) break;
      }
      granule = packet.granule;
    }
    if (lacing.length > 0 || flags.last) emit(true);
    return out;
  }

  #page(type: number, granule: bigint, lacing: number[], body: Uint8Array[]): Uint8Array {
    const size = body.reduce((n, b) => n + b.length, 0);
    const page = new Uint8Array(27 + lacing.length + size);
    const view = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53]); // "OggS"
    page[4] = 0; // version
    page[5] = type;
    view.setBigInt64(6, granule, true);
    view.setUint32(14, this.serial, true);
    view.setUint32(18, this.#sequence++, true);
    // CRC at 22..25 stays 0 while it is computed.
    page[26] = lacing.length;
    page.set(lacing, 27);
    let at = 27 + lacing.length;
    for (const b of body) {
      page.set(b, at);
      at += b.length;
    }
    view.setUint32(22, oggCrc(page), true);
    return page;
  }
}
