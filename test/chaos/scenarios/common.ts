/**
 * What the scenarios share: the texts and keys the load uses, the standard topology, how its
 * capacity is computed, and the checks most scenarios assert.
 * @module
 */
import type { ChaosCluster, ChaosClusterOptions } from '../cluster/chaos-cluster.ts';
import { primaryServiceMs } from '../cluster/sim-config.ts';
import type { RequestRecord } from '../load/load-spec.ts';
import { FAILURE_CLASSES } from '../report/summarize.ts';
import type { LoadInput } from './drive.ts';
import { check, type Check } from './scenario.ts';

/** Texts of 24–26 characters: about 1.3 s of simulated primary compute each. */
export const TEXTS = ['The quick brown fox jumps', 'A gateway routes requests', 'Every node answers in time', 'Speech arrives, never 500'];
export const MEAN_CHARS = TEXTS.reduce((a, t) => a + t.length, 0) / TEXTS.length;

export interface Profile {
  /** Short: the `npm test` version. Full: the `npm run chaos` version. */
  short: boolean;
  /** Soak length for scenario 9. */
  soakMs: number;
}

export const SLOTS = 4;
export const QUEUE = 8;

/** Nominal primary capacity in requests per second: slots ÷ service time, summed over nodes. */
export function capacityRps(nodes: number, slots = SLOTS): number {
  return Math.round(((nodes * slots * 1000) / primaryServiceMs(MEAN_CHARS)) * 10) / 10;
}

/** Two regions of two nodes, one gateway homed in the first. */
export function standardTopology(extra: Partial<ChaosClusterOptions> = {}): ChaosClusterOptions {
  return {
    regions: [
      { name: 'north', nodes: 2 },
      { name: 'south', nodes: 2 },
    ],
    node: { slots: SLOTS, queue: QUEUE },
    ...extra,
  };
}

function count(records: RequestRecord[], pred: (r: RequestRecord) => boolean): number {
  return records.filter(pred).length;
}

/** The checks every scenario owes: no 5xx but 503, no silent failure, sheds carry Retry-After. */
export function baseChecks(records: RequestRecord[]): Check[] {
  const sent = records.filter((r) => r.outcome !== 'client_saturated');
  const fiveXx = count(sent, (r) => r.status >= 500 && r.status !== 503);
  const failures = sent.filter((r) => FAILURE_CLASSES.includes(r.outcome));
  const sheds = sent.filter((r) => r.outcome === '429' || r.outcome === '503');
  const bare = count(sheds, (r) => r.retry_after !== true);
  const examples = failures
    .slice(0, 3)
    .map((r) => `${r.outcome}${r.code ? ` ${r.code}` : ''}${r.detail ? ` (${r.detail.slice(0, 80)})` : ''}`)
    .join('; ');
  return [
    check('zero 5xx other than 503', fiveXx === 0, `${fiveXx} of ${sent.length}`),
    check(
      'no failed requests (5xx, reset, timeout, bad audio)',
      failures.length === 0,
      `${failures.length} of ${sent.length}${examples ? `: ${examples}` : ''}`,
    ),
    check('every 429/503 carries Retry-After', bare === 0, `${sheds.length - bare} of ${sheds.length}`),
    check('no 200 with incomplete audio', count(sent, (r) => r.outcome === 'bad_audio') === 0, `${count(sent, (r) => r.outcome === 'bad_audio')} bad_audio`),
  ];
}

export function okRecords(records: RequestRecord[]): RequestRecord[] {
  return records.filter((r) => r.outcome === 'ok');
}

export function p99(records: RequestRecord[]): number {
  const ms = records.map((r) => r.ms).sort((a, b) => a - b);
  return ms.length === 0 ? 0 : ms[Math.min(ms.length - 1, Math.ceil(0.99 * ms.length) - 1)]!;
}

/** One constant-rate phase against every gateway, capped at the requests that rate can send (+10). */
export function constantLoad(cluster: ChaosCluster, rps: number, durationMs: number, keys: string[] = ['demo-enterprise', 'demo-pro']): LoadInput {
  return {
    targets: cluster.gateways.map((g) => g.url),
    keys,
    texts: TEXTS,
    phases: [{ duration_ms: durationMs, rps }],
    max_requests: Math.ceil((rps * durationMs) / 1000) + 10,
  };
}
