/**
 * The pair counts the page and the terminal print, worded once. `compared` counts every judged
 * pair since start; the window holds the recent pairs, whichever model served the client; the
 * verdict counts only the window's pairs whose client was served by the configured baseline. Each
 * line says which of the three it is, so the figures beside one another never seem to disagree.
 * @module
 */
import type { CanaryReport } from './report-types.ts';

/** "4 (flite-fast 2, flite-hd 2)": the window's pairs by the model that served the client. */
export function windowPairs(r: CanaryReport): string {
  const by = Object.entries(r.judged_against)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, n]) => `${model} ${n}`)
    .join(', ');
  return by ? `${r.window.pairs} (${by})` : String(r.window.pairs);
}

/** "2 of 30 needed: those served by flite-hd, the configured baseline". */
export function verdictPairs(r: CanaryReport): string {
  return `${r.window.verdict_pairs} of ${r.thresholds.min_pairs} needed: those served by ${r.baseline}, the configured baseline`;
}
