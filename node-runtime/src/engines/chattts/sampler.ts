/**
 * The code-stage sampler, in upstream's exact order (spec §5.5 steps 4–8): temperature →
 * repetition penalty over the last 16 generated tokens (count-based, per codebook) → top-P (HF
 * semantics, keep ≥ 3) → top-K (keep ≥ 3) → EOS masked before min_new_tokens → softmax → one
 * inverse-CDF draw per codebook. Draws come from the request's seeded generator, so a seed fixes
 * the whole code sequence; upstream's per-step re-seeding with `manual_seed` is not reproduced.
 * @module
 */
import type { Rng } from './rng.ts';

export interface SamplerOptions {
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  minNewTokens: number;
  /** Upstream's CustomRepetitionPenaltyLogitsProcessorRepeat window. */
  window?: number;
}

/**
 * Processed distribution of one codebook row. `history` holds this codebook's generated tokens
 * (oldest first); `step` is the index of the token being sampled.
 */
export function processRow(logits: ArrayLike<number>, history: ArrayLike<number>, step: number, eos: number, o: SamplerOptions): Float64Array {
  const v = logits.length;
  const x = new Float64Array(v);
  // Math.fround keeps the division in float32, as torch does, so near-ties resolve the same way.
  for (let j = 0; j < v; j++) x[j] = Math.fround(logits[j]! / o.temperature);
  if (o.repetitionPenalty !== 1 && history.length > 0) {
    const w = o.window ?? 16;
    const freq = new Map<number, number>();
    for (let t = Math.max(0, history.length - w); t < history.length; t++) {
      const tok = history[t]!;
      freq.set(tok, (freq.get(tok) ?? 0) + 1);
    }
    for (const [tok, n] of freq) {
      const alpha = Math.fround(o.repetitionPenalty ** n);
      const l = x[tok]!;
      x[tok] = Math.fround(l < 0 ? l * alpha : l / alpha);
    }
  }
  // top-P: ascending sort; drop the low tail whose cumulative mass is ≤ 1 − top_p, never the top 3.
  const order = Array.from({ length: v }, (_, j) => j).sort((a, b) => x[a]! - x[b]! || a - b);
  const max = x[order[v - 1]!]!;
  let z = 0;
  for (let j = 0; j < v; j++) z += Math.exp(x[j]! - max);
  let cum = 0;
  for (let r = 0; r < v - 3; r++) {
    const j = order[r]!;
    cum += Math.exp(x[j]! - max) / z;
    if (cum <= 1 - o.topP) x[j] = Number.NEGATIVE_INFINITY;
    else break;
  }
  // top-K: drop everything strictly below the k-th largest.
  const k = Math.min(Math.max(o.topK, 3), v);
  const threshold = Array.from(x).sort((a, b) => b - a)[k - 1]!;
  for (let j = 0; j < v; j++) if (x[j]! < threshold) x[j] = Number.NEGATIVE_INFINITY;
  if (step < o.minNewTokens) x[eos] = Number.NEGATIVE_INFINITY;
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < v; j++) m = Math.max(m, x[j]!);
  let s = 0;
  for (let j = 0; j < v; j++) {
    const e = x[j] === Number.NEGATIVE_INFINITY ? 0 : Math.exp(x[j]! - m);
    x[j] = e;
    s += e;
  }
  for (let j = 0; j < v; j++) x[j] = x[j]! / s;
  return x;
}

/** First index whose running sum exceeds `u` (u in [0,1)); never a zero-probability index. */
export function pickIndex(probs: Float64Array, u: number): number {
  let c = 0;
  let lastNonZero = 0;
  for (let j = 0; j < probs.length; j++) {
    const p = probs[j]!;
    if (p > 0) lastNonZero = j;
    c += p;
    if (c > u && p > 0) return j;
  }
  return lastNonZero;
}

/** Running per-codebook history and the sampling of one 4-code row per step. */
export class CodeSampler {
  private readonly history: number[][];

  constructor(
    private readonly numVq: number,
    private readonly vocab: number,
    private readonly eos: number,
    private readonly opts: SamplerOptions,
    private readonly rng: Rng,
  ) {
    this.history = Array.from({ length: numVq }, () => []);
  }

  /** logits: (numVq × vocab) row-major. Returns the sampled row; the caller checks for EOS. */
  sample(logits: Float32Array, step: number): number[] {
    const row: number[] = [];
    for (let i = 0; i < this.numVq; i++) {
      const probs = processRow(logits.subarray(i * this.vocab, (i + 1) * this.vocab), this.history[i]!, step, this.eos, this.opts);
      row.push(pickIndex(probs, this.rng.uniform()));
    }
    return row;
  }

  /** Records an accepted (non-EOS) row for the repetition penalty. */
  accept(row: number[]): void {
    for (let i = 0; i < this.numVq; i++) this.history[i]!.push(row[i]!);
  }
}
