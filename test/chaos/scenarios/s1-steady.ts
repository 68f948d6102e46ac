/**
 * Scenario 1: steady load at 80 % of capacity — zero errors of any kind.
 * @module
 */
import { startChaosCluster, type ChaosCluster } from '../cluster/chaos-cluster.ts';
import { baseChecks, capacityRps, okRecords, p99, standardTopology, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

export async function steadyLoad(profile: Profile, shared?: ChaosCluster): Promise<ScenarioResult> {
  const cluster = shared ?? (await startChaosCluster(standardTopology()));
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.8 * 10) / 10;
    const durationMs = profile.short ? 12_000 : 60_000;
    const run = await drive(cluster, constantLoad(cluster, rps, durationMs, ['demo-enterprise']), async () => undefined);
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '1',
      title: 'Steady load at 80% of capacity',
      claim: 'zero errors',
      ...run,
      capacityRps: capacity,
      checks: [check('every request answered with complete audio', ok === sent, `${ok} of ${sent} ok`), ...baseChecks(run.records)],
      figures: { offered_rps: rps, ok_p99_ms: p99(okRecords(run.records)) },
    };
  } finally {
    if (!shared) await cluster.close();
  }
}
