/**
 * Small numeric helpers shared by the benchmark phases.
 * @module
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function mean(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** The middle value (the mean of the two middle ones for an even count); NaNs are ignored. */
export function median(values: readonly number[]): number {
  const s = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds for JSON and tables: 3 significant digits below 10, else 1 decimal. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const d = Math.abs(x) >= 100 ? 1 : Math.abs(x) >= 10 ? 2 : digits;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export function fmt(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${round(x)}${unit}`;
}
