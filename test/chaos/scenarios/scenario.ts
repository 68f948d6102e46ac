/**
 * What every chaos scenario produces: the client's view (one record per request), the faults it
 * injected and when, memory samples, the checks it asserts, and a few scenario-specific figures.
 * The report is built from this alone.
 * @module
 */
import type { RequestRecord } from '../load/load-spec.ts';

export interface FaultMark {
  label: string;
  /** Seconds since the load's epoch. */
  startS: number;
  /** Absent for instantaneous faults (a kill). */
  endS?: number;
}

export interface MemorySample {
  /** Seconds since the load's epoch. */
  t: number;
  /** RSS bytes by process (`gateway:<home>`, `node:<id>`). */
  rss: Record<string, number>;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** What the scenario must show, from the issue. */
  claim: string;
  epochMs: number;
  records: RequestRecord[];
  faults: FaultMark[];
  samples: MemorySample[];
  checks: Check[];
  /** Scenario-specific figures: restarts, requests that waited on a bad node, drain times… */
  figures: Record<string, number | string>;
  /** The load generator's own event-loop delay (a starved client inflates latencies). */
  clientLoopDelayMs?: { p99: number; max: number };
  /** The cluster's nominal capacity in requests per second, when the scenario defines one. */
  capacityRps?: number;
}

export function check(name: string, pass: boolean, detail: string): Check {
  return { name, pass, detail };
}

/** Failed checks as readable strings (empty when the scenario passed). */
export function failedChecks(result: ScenarioResult): string[] {
  return result.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`);
}
