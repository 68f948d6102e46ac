/**
 * Scenario 3: one node killed (SIGKILL), then its whole region killed, under load — zero failed
 * requests while capacity remains; reports how long until no request goes to the dead region.
 * Two gateways (homes north and south) share the load, so both must learn of the deaths.
 * @module
 */
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { nodesTouched, tapLogs } from '../cluster/log-tap.ts';
import { baseChecks, capacityRps, okRecords, QUEUE, SLOTS, TEXTS, type Profile } from './common.ts';
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
  // Time (epoch ms) of every access-log line that touched each node, from both gateways.
  const touched = new Map<string, number[]>();
  const untap = cluster.gateways.map((g) =>
    tapLogs(g.proc, (line) => {
      if (line.msg !== 'request completed' && line.msg !== 'request failed') return;
      for (const id of nodesTouched(line)) {
        const list = touched.get(id) ?? [];
        list.push(typeof line['time'] === 'number' ? line['time'] : Date.now());
        touched.set(id, list);
      }
    }),
  );
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const remaining = capacityRps(cluster.nodes.length - 2);
    const rps = Math.round(capacity * 0.4 * 10) / 10;
    const [killNodeAt, killRegionAt, durationMs] = profile.short ? [6_000, 13_000, 24_000] : [10_000, 25_000, 50_000];
    let nodeKilledAt = 0;
    let regionKilledAt = 0;
    const run = await drive(cluster, {
      targets: cluster.gateways.map((g) => g.url),
      keys: ['demo-enterprise', 'demo-pro'],
      texts: TEXTS,
      phases: [{ duration_ms: durationMs, rps }],
      max_requests: Math.ceil((rps * durationMs) / 1000) + 10,
    }, async (ctx) => {
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
    const lastTouch = (ids: string[], after: number) => Math.max(after, ...ids.flatMap((id) => (touched.get(id) ?? []).filter((t) => t >= after)));
    const nodeDrainMs = lastTouch(['north-1'], nodeKilledAt) - nodeKilledAt;
    const regionDrainMs = lastTouch(['north-1', 'north-2'], regionKilledAt) - regionKilledAt;
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '3',
      title: 'Node killed, then region killed',
      claim: 'zero failed requests while capacity remains; time until no request goes to the dead region',
      ...run,
      capacityRps: capacity,
      checks: [
        check('every request served while capacity remains', ok === sent, `${ok} of ${sent} ok (offered ${rps} req/s; capacity after the region died ${remaining} req/s)`),
        ...baseChecks(run.records),
        check('traffic leaves the dead region within 10 s', regionDrainMs <= 10_000, `last request touching region north ${regionDrainMs} ms after its death`),
      ],
      figures: {
        offered_rps: rps,
        dead_node_last_touched_ms: nodeDrainMs,
        dead_region_last_touched_ms: regionDrainMs,
        served_outside_home: run.records.filter((r) => r.region && r.region !== 'north').length,
      },
    };
  } finally {
    for (const stop of untap) stop();
    await cluster.close();
  }
}
