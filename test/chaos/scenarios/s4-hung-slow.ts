/**
 * Scenario 4: a hung node (SIGSTOP: it accepts connections and never answers) and a slow node
 * (every answer 8 s late, health checks still fine) at once — per-try timeouts and outlier
 * detection move traffic away; the number of requests that waited on a bad node is bounded and
 * reported.
 * @module
 */
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { baseChecks, capacityRps, okRecords, p99, QUEUE, SLOTS, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

const SLOW_MS = 8_000;

export async function hungAndSlow(profile: Profile): Promise<ScenarioResult> {
  const cluster = await startChaosCluster({
    regions: [
      { name: 'north', nodes: 3 },
      { name: 'south', nodes: 2 },
    ],
    node: { slots: SLOTS, queue: QUEUE },
  });
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.4 * 10) / 10;
    const [faultAt, faultMs, durationMs] = profile.short ? [5_000, 12_000, 24_000] : [8_000, 25_000, 45_000];
    const hung = cluster.node('north-1');
    const slow = cluster.node('north-2');
    let hungCalls = 0;
    let slowCalls = 0;
    const run = await drive(cluster, constantLoad(cluster, rps, durationMs), async (ctx) => {
      await ctx.at(faultAt);
      const hungBefore = hung.proxy.stats.synth;
      const slowBefore = slow.proxy.stats.faulted;
      const endHung = ctx.mark('SIGSTOP north-1');
      hung.pause();
      const endSlow = ctx.mark(`north-2 +${SLOW_MS} ms`);
      slow.proxy.set({ kind: 'delay', ms: SLOW_MS });
      await ctx.at(faultAt + faultMs);
      hungCalls = hung.proxy.stats.synth - hungBefore;
      slowCalls = slow.proxy.stats.faulted - slowBefore;
      hung.resume();
      endHung();
      slow.proxy.set({ kind: 'pass' });
      endSlow();
    });
    const inWindow = run.records.filter((r) => r.t >= faultAt && r.t < faultAt + faultMs);
    const waited = hungCalls + slowCalls;
    // Without detection, the two bad nodes (of three in the home region, which takes the
    // traffic) would receive about two thirds of it; the bound asks for half of that at most.
    const bound = Math.ceil(inWindow.length / 3);
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '4',
      title: 'Hung node and slow node',
      claim: 'per-try timeouts and outlier detection move traffic; requests that waited on a bad node are bounded and reported',
      ...run,
      capacityRps: capacity,
      checks: [
        check('every request served', ok === sent, `${ok} of ${sent} ok`),
        ...baseChecks(run.records),
        check(
          'requests that waited on a bad node are bounded',
          waited <= bound,
          `${waited} (hung ${hungCalls}, slow ${slowCalls}) of ${inWindow.length} sent during the fault; bound ${bound}`,
        ),
      ],
      figures: {
        offered_rps: rps,
        waited_on_hung_node: hungCalls,
        waited_on_slow_node: slowCalls,
        requests_during_fault: inWindow.length,
        ok_p99_during_fault_ms: p99(okRecords(inWindow)),
      },
    };
  } finally {
    await cluster.close();
  }
}
