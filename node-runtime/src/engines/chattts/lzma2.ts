/**
 * A raw LZMA2 decoder (xz's FORMAT_RAW + FILTER_LZMA2, no container header), for ChatTTS speaker
 * strings (spec §9.2): 1,536 bytes of fp16 compressed with preset 9|extreme, typically one LZMA
 * chunk (control 0xE0) or, for incompressible data, an uncompressed chunk (0x01).
 *
 * Written from the LZMA format description (range coder, literal/match/rep coding with the
 * 12-state machine, length and distance coders) rather than taken from a library: the npm LZMA
 * packages either read only the .lzma/.xz containers or hand back strings for binary output.
 * The whole output is kept in memory and doubles as the dictionary, which suits inputs of a few
 * kilobytes; `maxOutput` bounds what a hostile string can make us allocate.
 * @module
 */

const NUM_STATES = 12;
const POS_STATES_MAX = 16;
const LEN_TO_POS_STATES = 4;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 128;
const MATCH_MIN_LEN = 2;
const PROB_INIT = 1024;

class Lzma2Error extends Error {
  override readonly name = 'Lzma2Error';
}

class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    if (end - start < 5 || buf[start] !== 0) throw new Lzma2Error('corrupt range-coder header');
    this.pos = start + 1;
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.next();
    if (this.code === this.range) throw new Lzma2Error('corrupt range-coder header');
  }

  private next(): number {
    if (this.pos >= this.end) throw new Lzma2Error('LZMA chunk ends early');
    return this.buf[this.pos++]!;
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  direct(count: number): number {
    let res = 0;
    for (let i = 0; i < count; i++) {
      this.range = this.range >>> 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        bit = 1;
      }
      res = res * 2 + bit;
      this.normalize();
    }
    return res;
  }

  treeDecode(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    for (let i = 0; i < numBits; i++) m = m * 2 + this.bit(probs, base + m);
    return m - (1 << numBits);
  }

  treeReverse(probs: Uint16Array, base: number, numBits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < numBits; i++) {
      const b = this.bit(probs, base + m);
      m = m * 2 + b;
      sym |= b << i;
    }
    return sym;
  }
}

class LenDecoder {
  // choice, choice2, low[16][8], mid[16][8], high[256]
  readonly probs = new Uint16Array(2 + POS_STATES_MAX * 8 * 2 + 256).fill(PROB_INIT);

  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.probs, 0) === 0) return rc.treeDecode(this.probs, 2 + posState * 8 - 1, 3);
    if (rc.bit(this.probs, 1) === 0) return 8 + rc.treeDecode(this.probs, 2 + 128 + posState * 8 - 1, 3);
    return 16 + rc.treeDecode(this.probs, 2 + 256 - 1, 8);
  }
}

/** Probability model and coder state carried across LZMA2 chunks until a state reset. */
class LzmaState {
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  reps = [0, 0, 0, 0];
  literal = new Uint16Array(0);
  isMatch = new Uint16Array(NUM_STATES * POS_STATES_MAX);
  isRep = new Uint16Array(NUM_STATES);
  isRepG0 = new Uint16Array(NUM_STATES);
  isRepG1 = new Uint16Array(NUM_STATES);
  isRepG2 = new Uint16Array(NUM_STATES);
  isRep0Long = new Uint16Array(NUM_STATES * POS_STATES_MAX);
  posSlot = new Uint16Array(LEN_TO_POS_STATES * 64);
  posDecoders = new Uint16Array(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  align = new Uint16Array(16);
  lenDec = new LenDecoder();
  repLenDec = new LenDecoder();

  setProps(props: number): void {
    if (props >= 9 * 5 * 5) throw new Lzma2Error('invalid LZMA properties byte');
    this.lc = props % 9;
    this.lp = Math.floor(props / 9) % 5;
    this.pb = Math.floor(props / 45);
    if (this.lc + this.lp > 4) throw new Lzma2Error('LZMA2 requires lc + lp <= 4');
  }

  reset(): void {
    this.state = 0;
    this.reps = [0, 0, 0, 0];
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp)).fill(PROB_INIT);
    for (const a of [this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posDecoders, this.align])
      a.fill(PROB_INIT);
    this.lenDec = new LenDecoder();
    this.repLenDec = new LenDecoder();
  }
}

class Output {
  buf: Uint8Array;
  len = 0;
  /** Matches may not reach before the last dictionary reset. */
  dictStart = 0;

  constructor(private readonly max: number) {
    this.buf = new Uint8Array(Math.min(max, 4096));
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len + n > this.max) throw new Lzma2Error(`output exceeds ${this.max} bytes`);
    const next = new Uint8Array(Math.min(this.max, Math.max(this.buf.length * 2, this.len + n)));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  put(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** The byte `dist` positions back (dist ≥ 1). */
  back(dist: number): number {
    return this.len - dist >= this.dictStart ? this.buf[this.len - dist]! : 0;
  }

  copy(dist: number, count: number): void {
    if (dist > this.len - this.dictStart) throw new Lzma2Error('match distance beyond the dictionary');
    this.ensure(count);
    for (let i = 0; i < count; i++) {
      this.buf[this.len] = this.buf[this.len - dist]!;
      this.len++;
    }
  }
}

function decodeLzmaChunk(rc: RangeDecoder, s: LzmaState, out: Output, unpacked: number): void {
  const target = out.len + unpacked;
  const pbMask = (1 << s.pb) - 1;
  const lpMask = (1 << s.lp) - 1;
  while (out.len < target) {
    // Positions count from the last dictionary reset, as the encoder's did.
    const pos = out.len - out.dictStart;
    const posState = pos & pbMask;
    const st = s.state;
    if (rc.bit(s.isMatch, (st << 4) + posState) === 0) {
      const prev = out.len > out.dictStart ? out.back(1) : 0;
      const base = 0x300 * (((pos & lpMask) << s.lc) + (prev >>> (8 - s.lc)));
      let sym = 1;
      if (st >= 7) {
        let matchByte = out.back(s.reps[0]! + 1);
        while (sym < 0x100) {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte = (matchByte << 1) & 0xff;
          const b = rc.bit(s.literal, base + ((1 + matchBit) << 8) + sym);
          sym = (sym << 1) | b;
          if (matchBit !== b) break;
        }
      }
      while (sym < 0x100) sym = (sym << 1) | rc.bit(s.literal, base + sym);
      out.put(sym - 0x100);
      s.state = st < 4 ? 0 : st < 10 ? st - 3 : st - 6;
      continue;
    }
    let len: number;
    if (rc.bit(s.isRep, st) !== 0) {
      if (out.len === out.dictStart) throw new Lzma2Error('repeated match with an empty dictionary');
      if (rc.bit(s.isRepG0, st) === 0) {
        if (rc.bit(s.isRep0Long, (st << 4) + posState) === 0) {
          s.state = st < 7 ? 9 : 11;
          out.put(out.back(s.reps[0]! + 1));
          continue;
        }
      } else {
        let dist: number;
        if (rc.bit(s.isRepG1, st) === 0) {
          dist = s.reps[1]!;
        } else {
          if (rc.bit(s.isRepG2, st) === 0) {
            dist = s.reps[2]!;
          } else {
            dist = s.reps[3]!;
            s.reps[3] = s.reps[2]!;
          }
          s.reps[2] = s.reps[1]!;
        }
        s.reps[1] = s.reps[0]!;
        s.reps[0] = dist;
      }
      len = s.repLenDec.decode(rc, posState);
      s.state = st < 7 ? 8 : 11;
    } else {
      s.reps[3] = s.reps[2]!;
      s.reps[2] = s.reps[1]!;
      s.reps[1] = s.reps[0]!;
      len = s.lenDec.decode(rc, posState);
      s.state = st < 7 ? 7 : 10;
      s.reps[0] = decodeDistance(rc, s, len);
      if (s.reps[0] === 0xffffffff) throw new Lzma2Error('end marker inside an LZMA2 chunk');
    }
    const n = len + MATCH_MIN_LEN;
    if (out.len + n > target) throw new Lzma2Error('match runs past the chunk size');
    out.copy(s.reps[0]! + 1, n);
  }
}

function decodeDistance(rc: RangeDecoder, s: LzmaState, len: number): number {
  const lenState = Math.min(len, LEN_TO_POS_STATES - 1);
  const slot = rc.treeDecode(s.posSlot, lenState * 64 - 1, 6);
  if (slot < 4) return slot;
  const directBits = (slot >>> 1) - 1;
  let dist = (2 | (slot & 1)) * 2 ** directBits;
  if (slot < END_POS_MODEL_INDEX) {
    dist += rc.treeReverse(s.posDecoders, dist - slot - 1, directBits);
  } else {
    dist += rc.direct(directBits - 4) * 16;
    dist += rc.treeReverse(s.align, -1, 4);
  }
  return dist;
}

/**
 * Decodes a raw LZMA2 stream. Throws on any malformed chunk rather than returning partial data.
 * @example
 * const fp16Bytes = decodeLzma2Raw(decodeBase16384(speakerString), 1 << 16);
 */
export function decodeLzma2Raw(input: Uint8Array, maxOutput = 1 << 20): Uint8Array {
  const out = new Output(maxOutput);
  const s = new LzmaState();
  let pos = 0;
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (pos >= input.length) throw new Lzma2Error('stream ends without an end marker');
    const control = input[pos++]!;
    if (control === 0x00) break;
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) {
        out.dictStart = out.len;
        needDictReset = false;
      } else if (needDictReset) throw new Lzma2Error('first chunk must reset the dictionary');
      if (pos + 2 > input.length) throw new Lzma2Error('truncated chunk header');
      const size = input[pos]! * 256 + input[pos + 1]! + 1;
      pos += 2;
      if (pos + size > input.length) throw new Lzma2Error('truncated uncompressed chunk');
      for (let i = 0; i < size; i++) out.put(input[pos + i]!);
      pos += size;
      continue;
    }
    if (control < 0x80) throw new Lzma2Error(`invalid LZMA2 control byte 0x${control.toString(16)}`);
    if (pos + 4 > input.length) throw new Lzma2Error('truncated chunk header');
    const unpacked = (control & 0x1f) * 65536 + input[pos]! * 256 + input[pos + 1]! + 1;
    const packed = input[pos + 2]! * 256 + input[pos + 3]! + 1;
    pos += 4;
    const reset = (control >>> 5) & 3;
    if (reset === 3) {
      out.dictStart = out.len;
      needDictReset = false;
    } else if (needDictReset) throw new Lzma2Error('first chunk must reset the dictionary');
    if (reset >= 2) {
      if (pos >= input.length) throw new Lzma2Error('truncated chunk header');
      s.setProps(input[pos++]!);
      needProps = false;
    } else if (needProps) throw new Lzma2Error('LZMA chunk without properties');
    if (reset >= 1) s.reset();
    const end = pos + packed;
    if (end > input.length) throw new Lzma2Error('truncated LZMA chunk');
    const rc = new RangeDecoder(input, pos, end);
    decodeLzmaChunk(rc, s, out, unpacked);
    if (rc.pos !== end) throw new Lzma2Error('LZMA chunk size mismatch');
    pos = end;
  }
  return out.buf.slice(0, out.len);
}
