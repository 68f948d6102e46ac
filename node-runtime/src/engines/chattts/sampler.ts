/**
 * The sampler of both GPT stages (code: 4 rows of 626, one temperature per codebook; refine: one
 * row of the text vocabulary), in upstream's exact order (spec §5.5 steps 4–8): temperature →
 * repetition penalty over the last 16 generated tokens (count-based, per codebook) → top-P (HF
 * semantics, keep ≥ 3) → top-K (keep ≥ 3) → EOS masked before min_new_tokens → softmax → one
 * inverse-CDF draw per codebook. Draws come from the request's seeded generator, so a seed fixes
 * the whole code sequence; upstream's per-step re-seeding with `manual_seed` is not reproduced.
 * @module
 */
import type { Rng } from './rng.ts';

export interface SamplerOptions {
  /** One value for every row, or one per codebook. */
  temperature: number | readonly number[];
  /** null: warper off (upstream's `top_P=None`). */
  topP: number | null;
  topK: number | null;
  repetitionPenalty: number;
  minNewTokens: number;
  /** Upstream's CustomRepetitionPenaltyLogitsProcessorRepeat window. */
  window?: number;
}

/**
 * Processed distribution of one codebook row. `history` holds this codebook's generated tokens
 * (oldest first); `step` is the index of the token being sampled.
 *
 * Equivalent to sorting the row (HF's warpers do) but without a sort: after top-K only the
 * k (+ ties) highest logits can survive, so we select those, and decide top-P for each from the
 * probability mass ranked above it — HF removes a token when the ascending cumulative mass up to
 * it is ≤ 1 − top_p, i.e. when the mass strictly above it is ≥ top_p (never the top 3). This runs
 * on every step for 4 codebooks, where two full sorts cost as much as a tiny model's GPT step.
 */
export function processRow(logits: ArrayLike<number>, history: ArrayLike<number>, step: number, eos: number, o: SamplerOptions, row = 0): Float64Array {
  const v = logits.length;
  const x = new Float64Array(v);
  const temperature = typeof o.temperature === 'number' ? o.temperature : o.temperature[row]!;
  // Math.fround keeps the division in float32, as torch does, so near-ties resolve the same way.
  for (let j = 0; j < v; j++) x[j] = Math.fround(logits[j]! / temperature);
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
  const k = o.topK === null ? v : Math.min(Math.max(o.topK, 3), v);
  let cand: number[] = [];
  if (o.topK === null) {
    // Every token may survive: rank them all (stable, so ties keep index order).
    cand = Array.from({ length: v }, (_, j) => j).sort((a, b) => x[b]! - x[a]!);
  } else {
    // Top k + a few candidates (ties at the k-th value survive top-K), best first.
    const cap = Math.min(v, k + 8);
    for (let j = 0; j < v; j++) {
      const val = x[j]!;
      if (cand.length === cap && val <= x[cand[cap - 1]!]!) continue;
      let pos = cand.length === cap ? cap - 1 : cand.length;
      while (pos > 0 && x[cand[pos - 1]!]! < val) pos--;
      cand.splice(pos, 0, j);
      if (cand.length > cap) cand.pop();
    }
  }
  const max = x[cand[0]!]!;
  let z = 0;
  for (let j = 0; j < v; j++) z += Math.exp(x[j]! - max);
  // top-P over the ranking: keep rank r while the mass ranked above it is < top_p (or r < 3).
  let kept = 0;
  let above = 0;
  for (; kept < cand.length; kept++) {
    if (o.topP !== null && kept >= 3 && above >= o.topP) break;
    above += Math.exp(x[cand[kept]!]! - max) / z;
  }
  // top-K on what top-P left: drop values strictly below the k-th largest (if k survive).
  if (o.topK !== null && kept >= k) {
    const threshold = x[cand[k - 1]!]!;
    let n = k;
    while (n < kept && x[cand[n]!]! >= threshold) n++;
    kept = n;
  }
  const out = new Float64Array(v);
  let m = Number.NEGATIVE_INFINITY;
  const maskEos = step < o.minNewTokens;
  for (let r = 0; r < kept; r++) {
    const j = cand[r]!;
    if (maskEos && j === eos) continue;
    m = Math.max(m, x[j]!);
  }
  let s = 0;
  for (let r = 0; r < kept; r++) {
    const j = cand[r]!;
    if (maskEos && j === eos) continue;
    const e = Math.exp(x[j]! - m);
    out[j] = e;
    s += e;
  }
  for (let r = 0; r < kept; r++) out[cand[r]!] = out[cand[r]!]! / s;
  return out;
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
      const probs = processRow(logits.subarray(i * this.vocab, (i + 1) * this.vocab), this.history[i]!, step, this.eos, this.opts, i);
      row.push(pickIndex(probs, this.rng.uniform()));
    }
    return row;
  }

  /** Records an accepted (non-EOS) row for the repetition penalty. */
  accept(row: number[]): void {
    for (let i = 0; i < this.numVq; i++) this.history[i]!.push(row[i]!);
  }
}
