/**
 * Scenario 10: clock skew — nodes whose wall clocks disagree by hours, one node and one of the
 * two gateways whose clocks step 90 s forward mid-run (an NTP step), under load. Deadlines travel as relative budgets
 * (`x-request-deadline-ms`) and nodes measure time monotonically, so no request may fail.
 * The skew comes from a test-only `--import` shim (faults/clock-skew.mjs), never production code.
 * @module
 */
import path from 'node:path';
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { baseChecks, capacityRps, okRecords, QUEUE, SLOTS, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

const SHIM = path.resolve(import.meta.dirname, '../faults/clock-skew.mjs');

function skew(offsetMs: number, step?: { ms: number; afterMs: number }): Record<string, string> {
  return {
    NODE_OPTIONS: `--import=${SHIM}`,
    VOXGATE_TEST_CLOCK_OFFSET_MS: String(offsetMs),
    ...(step ? { VOXGATE_TEST_CLOCK_STEP_MS: String(step.ms), VOXGATE_TEST_CLOCK_STEP_AFTER_MS: String(step.afterMs) } : {}),
  };
}

export async function clockSkew(profile: Profile): Promise<ScenarioResult> {
  const durationMs = profile.short ? 20_000 : 40_000;
  const stepAfterMs = 25_000 + durationMs / 2;
  // The south gateway starts after the four nodes (~10 s on this machine); its step lands mid-run.
  const gatewayStepAfterMs = 5_000 + durationMs / 2;
  const cluster = await startChaosCluster({
    regions: [
      { name: 'north', nodes: [{ env: skew(3_600_000) }, { env: skew(-3_600_000) }] },
      { name: 'south', nodes: [{ env: skew(0, { ms: 90_000, afterMs: stepAfterMs }) }, { env: skew(-86_400_000) }] },
    ],
    node: { slots: SLOTS, queue: QUEUE },
    gateways: ['north', 'south'],
    gatewayEnvByHome: { south: skew(0, { ms: 90_000, afterMs: gatewayStepAfterMs }) },
  });
  const gatewayStarted = Date.now();
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.5 * 10) / 10;
    const run = await drive(cluster, constantLoad(cluster, rps, durationMs), async (ctx) => {
      ctx.instant('clocks: north-1 +1 h, north-2 −1 h, south-2 −24 h');
      const wait = gatewayStarted + gatewayStepAfterMs - Date.now();
      if (wait > 0 && wait < durationMs) {
        await new Promise((r) => setTimeout(r, wait));
        ctx.instant('gateway south: clock steps +90 s');
      }
    });
    const bySouth = run.records.filter((r) => r.gw === 1);
    const southFailures = bySouth.filter((r) => r.outcome !== 'ok').length;
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '10',
      title: 'Clock skew between nodes',
      claim: 'no request fails because clocks disagree or step',
      ...run,
      capacityRps: capacity,
      checks: [check('every request served', ok === sent, `${ok} of ${sent} ok`), ...baseChecks(run.records)],
      figures: {
        offered_rps: rps,
        south_1_clock_step: `+90 s about ${Math.round(stepAfterMs / 1000)} s after it started`,
        requests_via_stepping_gateway: bySouth.length,
        not_ok_via_stepping_gateway: southFailures,
      },
    };
  } finally {
    await cluster.close();
  }
}
