/**
 * Scenario 3: one node killed (SIGKILL), then its whole region killed, under load — zero failed
 * requests while capacity remains; reports how long until no request goes to the dead region.
 * Two gateways (homes north and south) share the load, so both must learn of the deaths.
 * @module
 */
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { tapLogs, touches, type Touch } from '../cluster/log-tap.ts';
import { baseChecks, capacityRps, okRecords, QUEUE, SLOTS, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

export async function failover(profile: Profile): Promise<ScenarioResult> {
  const cluster = await startChaosCluster({
    regions: [
      { name: 'north', nodes: 2 },
      { name: 'south', nodes: 2 },
      { name: 'east', nodes: 2 },
    ],
    node: { slots: SLOTS, queue: QUEUE },
    gateways: ['north', 'south'],
  });
  // Every attempt each node saw, with its time (epoch ms), from both gateways' access logs.
  const touched: (Touch & { at: number })[] = [];
  const untap = cluster.gateways.map((g) =>
    tapLogs(g.proc, (line) => {
      if (line.msg !== 'request completed' && line.msg !== 'request failed') return;
      const at = typeof line['time'] === 'number' ? line['time'] : Date.now();
      for (const t of touches(line)) touched.push({ ...t, at });
    }),
  );
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const remaining = capacityRps(cluster.nodes.length - 2);
    const rps = Math.round(capacity * 0.4 * 10) / 10;
    const [killNodeAt, killRegionAt, durationMs] = profile.short ? [6_000, 13_000, 24_000] : [10_000, 25_000, 50_000];
    let nodeKilledAt = 0;
    let regionKilledAt = 0;
    const run = await drive(cluster, constantLoad(cluster, rps, durationMs), async (ctx) => {
      await ctx.at(killNodeAt);
      ctx.instant('SIGKILL north-1');
      nodeKilledAt = Date.now();
      await cluster.node('north-1').kill();
      await ctx.at(killRegionAt);
      ctx.instant('SIGKILL region north');
      regionKilledAt = Date.now();
      await cluster.node('north-2').kill();
    });
    // Give the access logs a moment to arrive before reading them.
    await new Promise((r) => setTimeout(r, 300));
    // A refused connection costs the request ~nothing (it is reselected at once); an attempt
    // that waited on the dead node (a reset, a timeout) is what "going to the dead region" costs.
    const lastTouch = (ids: string[], after: number, costly: boolean) =>
      Math.max(after, ...touched.filter((t) => ids.includes(t.node) && t.at >= after && (!costly || t.ms >= 100 || t.outcome === 'served')).map((t) => t.at)) -
      after;
    const nodeDrainMs = lastTouch(['north-1'], nodeKilledAt, false);
    const regionDrainMs = lastTouch(['north-1', 'north-2'], regionKilledAt, false);
    const regionCostlyMs = lastTouch(['north-1', 'north-2'], regionKilledAt, true);
    const afterDeath = touched.filter((t) => t.node.startsWith('north') && t.at >= regionKilledAt);
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '3',
      title: 'Node killed, then region killed',
      claim: 'zero failed requests while capacity remains; time until no request goes to the dead region',
      ...run,
      capacityRps: capacity,
      checks: [
        check(
          'every request served while capacity remains',
          ok === sent,
          `${ok} of ${sent} ok (offered ${rps} req/s; capacity after the region died ${remaining} req/s)`,
        ),
        ...baseChecks(run.records),
        check(
          'no request waits on the dead region after 5 s',
          regionCostlyMs <= 5_000,
          `last attempt that waited on region north ended ${regionCostlyMs} ms after its death; last attempt of any kind (incl. instant connection refusals) ${regionDrainMs} ms`,
        ),
      ],
      figures: {
        offered_rps: rps,
        dead_node_last_attempt_ms: nodeDrainMs,
        dead_region_last_attempt_ms: regionDrainMs,
        dead_region_last_waiting_attempt_ms: regionCostlyMs,
        attempts_on_dead_region: `${afterDeath.length} (${[...new Set(afterDeath.map((t) => t.outcome))].join(', ')})`,
        served_outside_home: run.records.filter((r) => r.region && r.region !== 'north').length,
      },
    };
  } finally {
    for (const stop of untap) stop();
    await cluster.close();
  }
}
