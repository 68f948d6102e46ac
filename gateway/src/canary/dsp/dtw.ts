/**
 * Dynamic time warping between two sequences of equal-width vectors: two engines say the same
 * words at different speeds, so frames are compared along the cheapest monotone alignment
 * instead of position by position. Steps (1,0), (0,1), (1,1); the result is the mean local
 * distance along the path, so it does not grow with the length of the text.
 * @module
 */

export interface DtwResult {
  /** Mean local distance along the optimal path. */
  distance: number;
  /** Number of cells on the path. */
  pathLength: number;
}

export type LocalDistance = (a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number) => number;

/** Euclidean distance between row `ai` of `a` and row `bi` of `b`. */
export const euclidean: LocalDistance = (a, ai, b, bi, dim) => {
  let s = 0;
  const oa = ai * dim;
  const ob = bi * dim;
  for (let k = 0; k < dim; k++) {
    const d = a[oa + k]! - b[ob + k]!;
    s += d * d;
  }
  return Math.sqrt(s);
};

/**
 * @example
 * dtw(Float32Array.of(0, 1, 2), 3, Float32Array.of(0, 1, 1, 2), 4, 1).distance; // 0
 */
export function dtw(a: Float32Array, n: number, b: Float32Array, m: number, dim: number, dist: LocalDistance = euclidean): DtwResult {
  if (n === 0 || m === 0) return { distance: Number.POSITIVE_INFINITY, pathLength: 0 };
  // Two rolling rows of accumulated cost and path length; ties prefer the diagonal.
  let prevCost = new Float64Array(m);
  let prevLen = new Int32Array(m);
  let curCost = new Float64Array(m);
  let curLen = new Int32Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const d = dist(a, i, b, j, dim);
      if (i === 0 && j === 0) {
        curCost[j] = d;
        curLen[j] = 1;
        continue;
      }
      let best = Number.POSITIVE_INFINITY;
      let len = 0;
      if (i > 0 && j > 0 && prevCost[j - 1]! <= best) {
        best = prevCost[j - 1]!;
        len = prevLen[j - 1]!;
      }
      if (i > 0 && prevCost[j]! < best) {
        best = prevCost[j]!;
        len = prevLen[j]!;
      }
      if (j > 0 && curCost[j - 1]! < best) {
        best = curCost[j - 1]!;
        len = curLen[j - 1]!;
      }
      curCost[j] = best + d;
      curLen[j] = len + 1;
    }
    [prevCost, curCost] = [curCost, prevCost];
    [prevLen, curLen] = [curLen, prevLen];
  }
  const pathLength = prevLen[m - 1]!;
  return { distance: prevCost[m - 1]! / pathLength, pathLength };
}

/** Averages consecutive rows so neither sequence exceeds `max` rows (bounds DTW's n·m cost). */
export function decimate(data: Float32Array, frames: number, dim: number, max: number): { data: Float32Array; frames: number } {
  if (frames <= max) return { data, frames };
  const factor = Math.ceil(frames / max);
  const out = Math.ceil(frames / factor);
  const res = new Float32Array(out * dim);
  for (let o = 0; o < out; o++) {
    const from = o * factor;
    const to = Math.min(frames, from + factor);
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let f = from; f < to; f++) s += data[f * dim + k]!;
      res[o * dim + k] = s / (to - from);
    }
  }
  return { data: res, frames: out };
}
