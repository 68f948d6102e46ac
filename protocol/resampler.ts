/**
 * Streaming, deterministic sample-rate conversion (rational polyphase, Kaiser-windowed sinc) for
 * PCM16 mono: each engine's rate (flite 16 kHz, kal 8 kHz, ChatTTS 24 kHz) to the response rate.
 * Both processes import this one file: a node resamples its engine's audio when a request asks
 * for a `sample_rate` (so the shared gateway does not pay for it), and the gateway resamples
 * only what a node delivered at another rate (an older node that ignores the field).
 *
 * Chunk independence is exact, not approximate: output sample n is a fixed dot product of input
 * samples floor(n·M/L)−H+1 … floor(n·M/L)+H with phase table (n·M mod L), summed in float64 in
 * a fixed order, and it is emitted as soon as its last input sample has arrived. So the same input
 * pushed in any chunking yields bit-identical output (tested). Samples before the first and after
 * the last are zeros; flush() emits the tail. A stream of n input samples yields exactly
 * ceil(n·to/from) output samples: one resampler per node stream keeps durations additive when
 * a failover splices two engines (flush the old one, start a new one at the new rate).
 *
 * Written here rather than taken from npm: the WebAssembly resamplers (libsamplerate-js, speex)
 * load asynchronously and work in float32 with their own chunk-dependent state, while both sides
 * need a synchronous push() on Int16Array with a guarantee about chunking (a node resuming a
 * stream at a sample offset of the resampled audio relies on it).
 *
 * The dot products run in a small WebAssembly SIMD kernel (resampler-kernel.wat, compiled once
 * and instantiated synchronously): 30 s of flite's 16 kHz to 24 kHz take ~14 ms against ~79 ms
 * for the same loop in JavaScript, which was a node's largest main-thread cost. Its two-lane sums
 * round like the sequential one's on every sample of the rate pairs tried (1 LSB at most, tested).
 * @module
 */

import { RESAMPLER_KERNEL_WASM } from './resampler-kernel.ts';

export interface Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** Feeds samples; returns every output sample that is now final (possibly none). */
  push(pcm: Int16Array): Int16Array;
  /** Ends the stream: returns the remaining output samples. The resampler is spent afterwards. */
  flush(): Int16Array;
}

/** Zero crossings of the sinc on each side, at the narrower of the two rates. */
const HALF_ZERO_CROSSINGS = 16;
/** Kaiser β: ≈ 80 dB stop-band rejection. */
const KAISER_BETA = 8;
/** Pass band kept below the lower Nyquist frequency (the rest is the transition band). */
const CUTOFF = 0.94;
const MAX_PHASES = 4096;
const EMPTY = new Int16Array(0);

export interface PhaseTables {
  /** up factor L (output phases per input sample) */
  l: number;
  /** down factor M */
  m: number;
  /** taps per side */
  h: number;
  /** L rows of 2H taps; row p, tap j weighs input floor(n·M/L) − H + 1 + j. */
  taps: Float64Array;
}

const tables = new Map<string, PhaseTables>();

/**
 * @example
 * const r = createResampler(16000, 24000);
 * for (const chunk of nodeChunks) encoder.write(r.push(chunk));
 * encoder.write(r.flush());
 */
export function createResampler(fromRate: number, toRate: number): Resampler {
  for (const rate of [fromRate, toRate])
    if (!Number.isInteger(rate) || rate < 1000 || rate > 384_000) throw new RangeError(`sample rate ${rate} is out of range`);
  if (fromRate === toRate) return passthrough(fromRate);
  return new PolyphaseResampler(fromRate, toRate, phaseTables(fromRate, toRate));
}

function passthrough(rate: number): Resampler {
  return { fromRate: rate, toRate: rate, push: (pcm) => pcm, flush: () => EMPTY };
}

class PolyphaseResampler implements Resampler {
  /** Input history; buf[0] is absolute input index `start`. Negative indices are zeros. */
  #buf: Float64Array;
  #start: number;
  /** Input samples received (absolute end). */
  #received = 0;
  /** Next output index. */
  #next = 0;
  #done = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    private readonly t: PhaseTables,
  ) {
    this.#buf = new Float64Array(4 * t.h + 4096);
    this.#start = -t.h;
  }

  push(pcm: Int16Array): Int16Array {
    if (this.#done) throw new Error('resampler already flushed');
    this.#append(pcm);
    return this.#produce(this.#received);
  }

  flush(): Int16Array {
    if (this.#done) return EMPTY;
    this.#done = true;
    // Zeros after the end, enough for the last output's right-hand taps.
    const total = this.#received;
    this.#append(new Int16Array(this.t.h));
    return this.#produce(this.#received, total);
  }

  #append(pcm: Int16Array): void {
    let filled = this.#received - this.#start;
    if (filled + pcm.length > this.#buf.length) {
      // Drop history no future output needs, then grow if that is not enough.
      const keepFrom = Math.floor((this.#next * this.t.m) / this.t.l) - this.t.h + 1;
      const drop = Math.max(0, Math.min(keepFrom - this.#start, filled));
      if (drop > 0) {
        this.#buf.copyWithin(0, drop, filled);
        this.#start += drop;
        filled -= drop;
      }
      if (filled + pcm.length > this.#buf.length) {
        const grown = new Float64Array(Math.max(this.#buf.length * 2, filled + pcm.length));
        grown.set(this.#buf.subarray(0, filled));
        this.#buf = grown;
      }
    }
    this.#buf.set(pcm, filled);
    this.#received += pcm.length;
  }

  /**
   * Emits outputs whose last tap is below `available`; with `total` set (flush), stops at the
   * last output whose time lies inside the input.
   */
  #produce(available: number, total?: number): Int16Array {
    const { l, m, h } = this.t;
    const width = 2 * h;
    // Output n needs inputs up to floor(n·M/L) + H, i.e. n·M < (available − H)·L.
    let end = ceilDiv(Math.max(0, available - h) * l, m);
    if (total !== undefined) end = Math.min(end, ceilDiv(total * l, m));
    const last = end - 1;
    const count = Math.max(0, last - this.#next + 1);
    if (count === 0) return EMPTY;
    const out = new Int16Array(count);
    // In blocks, so the kernel's memory stays small however long a one-shot clip is.
    for (let done = 0; done < count; done += KERNEL_BLOCK) {
      const n = Math.min(KERNEL_BLOCK, count - done);
      // The block's first input and phase; the kernel steps both by M per output.
      const nm = (this.#next + done) * m;
      const base = Math.floor(nm / l);
      const from = base - h + 1 - this.#start;
      const lastFrom = Math.floor(((this.#next + done + n - 1) * m) / l) - h + 1 - this.#start;
      kernel().run(this.t, this.#buf.subarray(from, lastFrom + width), out.subarray(done, done + n), nm - base * l);
    }
    this.#next += count;
    return out;
  }
}

/**
 * The WebAssembly SIMD inner loop (resampler-kernel.wat), one instance per thread: each table's
 * taps are copied into its memory once, and each call copies in the input window it reads and
 * copies out the samples it wrote (the memory is reused by the next call, and holds at most one
 * block's window: `KERNEL_BLOCK` outputs).
 */
class Kernel {
  readonly #memory: WebAssembly.Memory;
  readonly #produce: ProduceExport;
  readonly #tapsAt = new Map<PhaseTables, number>();
  #end = 0;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(RESAMPLER_KERNEL_WASM, 'base64')));
    this.#memory = instance.exports['memory'] as WebAssembly.Memory;
    this.#produce = instance.exports['produce'] as ProduceExport;
  }

  /** Fills `out` with the outputs whose windows start `input` (the first at filter phase `phase`). */
  run(t: PhaseTables, input: Float64Array, out: Int16Array, phase: number): void {
    let tapsAt = this.#tapsAt.get(t);
    if (tapsAt === undefined) {
      tapsAt = this.#end;
      this.#end = align16(tapsAt + t.taps.byteLength);
      this.#reserve(this.#end);
      new Float64Array(this.#memory.buffer, tapsAt, t.taps.length).set(t.taps);
      this.#tapsAt.set(t, tapsAt);
    }
    const inputAt = this.#end;
    const outAt = align16(inputAt + input.byteLength);
    this.#reserve(outAt + out.byteLength);
    new Float64Array(this.#memory.buffer, inputAt, input.length).set(input);
    this.#produce(tapsAt, inputAt, outAt, out.length, phase, t.l, t.m, 2 * t.h);
    out.set(new Int16Array(this.#memory.buffer, outAt, out.length));
  }

  #reserve(bytes: number): void {
    const short = bytes - this.#memory.buffer.byteLength;
    if (short > 0) this.#memory.grow(Math.ceil(short / WASM_PAGE));
  }
}

/** produce(taps, input, out, count, phase, L, M, width): byte offsets into the kernel's memory. */
type ProduceExport = (taps: number, input: number, out: number, count: number, phase: number, l: number, m: number, width: number) => void;

const WASM_PAGE = 65_536;
/** Outputs per kernel call: its input window stays under 1 MB even when downsampling 6:1. */
const KERNEL_BLOCK = 16_384;
let shared: Kernel | undefined;

function kernel(): Kernel {
  return (shared ??= new Kernel());
}

function align16(n: number): number {
  return (n + 15) & ~15;
}

/** The filter for a rate pair (cached); exported so tests can evaluate the definition directly. */
export function phaseTables(fromRate: number, toRate: number): PhaseTables {
  const key = `${fromRate}>${toRate}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const g = gcd(fromRate, toRate);
  const l = toRate / g;
  const m = fromRate / g;
  if (l > MAX_PHASES) throw new RangeError(`resampling ${fromRate} → ${toRate} Hz needs ${l} filter phases (at most ${MAX_PHASES})`);
  // Cut off below the lower of the two Nyquist frequencies; in input-sample units that is 1 when
  // upsampling and L/M when downsampling, where the kernel widens to keep its zero crossings.
  const band = Math.min(1, l / m);
  const fc = CUTOFF * band;
  const h = Math.ceil(HALF_ZERO_CROSSINGS / band);
  const width = 2 * h;
  const taps = new Float64Array(l * width);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < l; p++) {
    const frac = p / l;
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const x = j - h + 1 - frac; // distance from the output instant, in input samples
      const r = x / h;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const v = fc * sinc(fc * x) * w;
      taps[p * width + j] = v;
      sum += v;
    }
    // Unity gain at DC for every phase, so silence stays silence and levels do not ripple.
    for (let j = 0; j < width; j++) taps[p * width + j] = taps[p * width + j]! / sum;
  }
  const t = { l, m, h, taps };
  tables.set(key, t);
  return t;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
