/**
 * The verdict, from the checks (checks.ts): `rollback` when any check fails, `promote` when every
 * available check passes, `hold` otherwise — and always `hold` while fewer than `min_pairs`
 * mirrors have finished, because a handful of pairs cannot support either decision (Kayenta's
 * NODATA, Argo's Inconclusive). Reasons list the failing checks first, then the undecided ones.
 * @module
 */
import type { Thresholds } from '../../config/canary.ts';
import type { PairRecord } from '../store/pair-record.ts';
import { runChecks, type Check } from './checks.ts';

export type Verdict = 'promote' | 'hold' | 'rollback';

export interface VerdictResult {
  verdict: Verdict;
  reasons: string[];
  checks: Check[];
}

/**
 * @example
 * const { verdict, reasons } = decide(pairs, thresholds, { available: false, reason: 'no pocketsphinx' });
 */
export function decide(pairs: readonly PairRecord[], t: Thresholds, asr: { available: boolean; reason?: string }): VerdictResult {
  const checks = runChecks(pairs, t, asr);
  const failed = checks.filter((c) => c.status === 'fail');
  const open = checks.filter((c) => c.status === 'inconclusive');
  if (pairs.length < t.min_pairs)
    return {
      verdict: 'hold',
      reasons: [`sample too small: ${pairs.length} of ${t.min_pairs} pairs against the configured baseline`, ...failed.map((c) => c.detail)],
      checks,
    };
  if (failed.length > 0) return { verdict: 'rollback', reasons: failed.map((c) => c.detail), checks };
  if (open.length > 0) return { verdict: 'hold', reasons: open.map((c) => c.detail), checks };
  return { verdict: 'promote', reasons: checks.filter((c) => c.status === 'pass').map((c) => c.detail), checks };
}
