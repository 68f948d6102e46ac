/**
 * Turns a scenario's records into the figures of the summary table: requests sent, outcomes by
 * class, 5xx count, p50/p99, recovery time and memory growth.
 * @module
 */
import { OUTCOME_CLASSES, type OutcomeClass, type RequestRecord } from '../load/load-spec.ts';
import type { MemorySample, ScenarioResult } from '../scenarios/scenario.ts';

export interface ScenarioSummary {
  id: string;
  title: string;
  sent: number;
  outcomes: Partial<Record<OutcomeClass, number>>;
  /** Server errors other than 503: 500, 502, 504… (503 with Retry-After is the allowed way to shed). */
  fiveXx: number;
  /** Requests that failed without a clean answer: 5xx, resets, timeouts, bad audio. */
  failures: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Longest stretch from a fault's start to the last failure it caused (null: no fault). */
  recoveryMs: number | null;
  /** RSS growth per process kind over the run, MB (gateway max, node max). */
  gatewayGrowthMb: number | null;
  nodeGrowthMb: number | null;
  goodputRps: number;
  pass: boolean;
}

export const FAILURE_CLASSES: readonly OutcomeClass[] = ['bad_audio', '5xx', '504', 'net_error', 'client_timeout'];

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function countOutcomes(records: RequestRecord[]): Partial<Record<OutcomeClass, number>> {
  const out: Partial<Record<OutcomeClass, number>> = {};
  for (const c of OUTCOME_CLASSES) {
    const n = records.filter((r) => r.outcome === c).length;
    if (n > 0) out[c] = n;
  }
  return out;
}

/** Growth between the median of the first and of the last three samples, per process; the max by kind. */
export function memoryGrowthMb(samples: MemorySample[], kind: 'gateway' | 'node'): number | null {
  if (samples.length < 2) return null;
  const keys = new Set(samples.flatMap((s) => Object.keys(s.rss)).filter((k) => k.startsWith(`${kind}:`)));
  let worst: number | null = null;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const key of keys) {
    const values = samples.map((s) => s.rss[key]).filter((v): v is number => v !== undefined);
    if (values.length < 2) continue;
    const growth = (median(values.slice(-3)) - median(values.slice(0, 3))) / (1024 * 1024);
    worst = worst === null ? growth : Math.max(worst, growth);
  }
  return worst === null ? null : Math.round(worst * 10) / 10;
}

export function recoveryMs(result: ScenarioResult): number | null {
  if (result.faults.length === 0) return null;
  const failures = result.records.filter((r) => FAILURE_CLASSES.includes(r.outcome)).map((r) => r.t + r.ms);
  let worst = 0;
  for (const f of result.faults) {
    const start = f.startS * 1000;
    const caused = failures.filter((t) => t >= start);
    if (caused.length > 0) worst = Math.max(worst, Math.max(...caused) - start);
  }
  return Math.round(worst);
}

export function summarize(result: ScenarioResult): ScenarioSummary {
  const sentRecords = result.records.filter((r) => r.outcome !== 'client_saturated');
  const okMs = sentRecords
    .filter((r) => r.outcome === 'ok')
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  const span = sentRecords.length > 0 ? (Math.max(...sentRecords.map((r) => r.t + r.ms)) - Math.min(...sentRecords.map((r) => r.t))) / 1000 : 0;
  return {
    id: result.id,
    title: result.title,
    sent: sentRecords.length,
    outcomes: countOutcomes(result.records),
    fiveXx: sentRecords.filter((r) => r.status >= 500 && r.status !== 503).length,
    failures: sentRecords.filter((r) => FAILURE_CLASSES.includes(r.outcome)).length,
    p50Ms: percentile(okMs, 50),
    p99Ms: percentile(okMs, 99),
    recoveryMs: recoveryMs(result),
    gatewayGrowthMb: memoryGrowthMb(result.samples, 'gateway'),
    nodeGrowthMb: memoryGrowthMb(result.samples, 'node'),
    goodputRps: span > 0 ? Math.round((okMs.length / span) * 10) / 10 : 0,
    pass: result.checks.every((c) => c.pass),
  };
}
