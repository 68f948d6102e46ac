/**
 * Short versions of chaos scenarios 1 (steady 80 %), 2 (3× overload) and 8 (bad input) on one
 * simulator cluster. The full versions run in `npm run chaos`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosCluster, type ChaosCluster } from './cluster/chaos-cluster.ts';
import { standardTopology, type Profile } from './scenarios/common.ts';
import { steadyLoad } from './scenarios/s1-steady.ts';
import { overload } from './scenarios/s2-overload.ts';
import { badInput } from './scenarios/s8-bad-input.ts';
import { failedChecks as failed } from './scenarios/scenario.ts';

const profile: Profile = { short: true, soakMs: 60_000 };
let cluster: ChaosCluster;

beforeAll(async () => {
  cluster = await startChaosCluster(standardTopology());
}, 90_000);
afterAll(async () => {
  await cluster?.close();
});

describe.sequential('chaos (short)', () => {
  it('1. steady load at 80% of capacity: zero errors', async () => {
    const r = await steadyLoad(profile, cluster);
    expect(r.records.length).toBeGreaterThan(50);
    expect(failed(r)).toEqual([]);
  }, 90_000);

  it('2. 3x overload: only 429/503 with Retry-After, zero 5xx, goodput ≥ 90% of capacity', async () => {
    const r = await overload(profile, cluster);
    expect(r.records.filter((x) => x.outcome === '429' || x.outcome === '503').length).toBeGreaterThan(0);
    expect(failed(r)).toEqual([]);
  }, 90_000);

  it('8. bad input: only 4xx, no stack traces, memory and latency unchanged', async () => {
    const r = await badInput(profile, cluster);
    expect(r.records.length).toBeGreaterThan(1_000);
    expect(failed(r)).toEqual([]);
  }, 150_000);
});
