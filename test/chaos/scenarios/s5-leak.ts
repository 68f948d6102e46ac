/**
 * Scenario 5: the node that leaks memory until it is killed — how the original outage began.
 * north-1 serves the `sim-leaky` test pack (1 MiB retained per request). A supervisor here plays
 * the kernel's OOM killer (SIGKILL once RSS passes a limit) and then systemd/Kubernetes (start a
 * fresh process at the same address). No client may see an error; every restart is recorded.
 * @module
 */
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { SIM_LEAKY_MODELS_DIR } from '../cluster/sim-config.ts';
import { baseChecks, capacityRps, okRecords, QUEUE, SLOTS, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

export async function leakingNode(profile: Profile): Promise<ScenarioResult> {
  const cluster = await startChaosCluster({
    regions: [
      { name: 'north', nodes: [{ modelsDir: SIM_LEAKY_MODELS_DIR }, {}] },
      { name: 'south', nodes: 2 },
    ],
    node: { slots: SLOTS, queue: QUEUE },
  });
  const leaky = cluster.node('north-1');
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.6 * 10) / 10;
    const durationMs = profile.short ? 30_000 : 75_000;
    const limitBytes = (leaky.rss() ?? 0) + (profile.short ? 40 : 60) * 1024 * 1024;
    const kills: { at: number; rss: number; downMs: number }[] = [];
    const run = await drive(cluster, constantLoad(cluster, rps, durationMs), async (ctx) => {
      // The supervisor: poll RSS like an OOM killer would see it; bounded by the load's length.
      while (ctx.elapsed() < durationMs - 3_000) {
        await new Promise((r) => setTimeout(r, 250));
        const rss = leaky.rss();
        if (rss === undefined || rss < limitBytes) continue;
        const started = Date.now();
        const end = ctx.mark(`OOM kill + restart north-1 (RSS ${Math.round(rss / 2 ** 20)} MB)`);
        await leaky.kill();
        await leaky.restart();
        end();
        kills.push({ at: ctx.elapsed(), rss, downMs: Date.now() - started });
      }
    });
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '5',
      title: 'Node leaking memory until killed',
      claim: 'no client-visible error, restart recorded',
      ...run,
      capacityRps: capacity,
      checks: [
        check('every request served', ok === sent, `${ok} of ${sent} ok`),
        ...baseChecks(run.records),
        check(
          'the leaking node was killed and restarted',
          kills.length >= 1 && leaky.restarts === kills.length,
          `${kills.length} OOM kills, ${leaky.restarts} restarts`,
        ),
      ],
      figures: {
        offered_rps: rps,
        rss_limit_mb: Math.round(limitBytes / 2 ** 20),
        oom_kills: kills.length,
        restart_down_ms: kills.map((k) => k.downMs).join(', ') || '–',
        note: 'node RSS growth in the table is the injected leak, by design',
      },
    };
  } finally {
    await cluster.close();
  }
}
