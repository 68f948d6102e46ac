/**
 * Scenario 9: soak — moderate load for a long time; the memory of the gateway and of every node
 * stays flat within a stated bound. Growth is retained memory after a full GC (V8 heap in use
 * plus external memory, as scenario 8 measures it), from the end of warm-up (the first 20 % of
 * the run, at least a minute, when pools, JIT and caches fill) to a few seconds before the load
 * ends, both under the same load. RSS is charted and reported, not judged: it moved by +34.7 MB
 * in a 3-minute run with GC timing and allocator caching alone.
 * @module
 */
import { getText, metricValue } from '../../harness/index.ts';
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { tapLogs, touches } from '../cluster/log-tap.ts';
import { baseChecks, capacityRps, okRecords, standardTopology, type Profile, constantLoad } from './common.ts';
import { drive } from './drive.ts';
import type { RetainedMemory } from '../../harness/index.ts';
import { check, type MemorySample, type ScenarioResult } from './scenario.ts';

/** The bound: retained memory may grow at most this much after warm-up, per process. */
export const SOAK_BOUND_MB = 25;

function growthAfterWarmup(samples: MemorySample[], key: string, warmupS: number): number | null {
  const series = samples.filter((s) => s.rss[key] !== undefined);
  const warm = series.filter((s) => s.t >= warmupS);
  if (warm.length < 4) return null;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const start = median(warm.slice(0, 3).map((s) => s.rss[key]!));
  const end = median(warm.slice(-3).map((s) => s.rss[key]!));
  return Math.round(((end - start) / 2 ** 20) * 10) / 10;
}

export async function soak(profile: Profile): Promise<ScenarioResult> {
  const cluster = await startChaosCluster(standardTopology());
  // Which node each failed request's attempts died on, from the gateway's access log.
  const failedOn: Record<string, number> = {};
  const untap = tapLogs(cluster.gateway.proc, (line) => {
    if (line.msg !== 'request failed') return;
    for (const t of touches(line))
      if (t.outcome !== 'served' && t.outcome !== 'ok') failedOn[`${t.node} ${t.outcome}`] = (failedOn[`${t.node} ${t.outcome}`] ?? 0) + 1;
  });
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.5 * 10) / 10;
    const durationMs = profile.soakMs;
    // A fifth of the run, but at least a minute: the gateway's V8 heap is still growing to its
    // working size after 36 s (a 3-minute soak measured +31 MB that a 20-minute one did not).
    const warmupS = Math.max(60, durationMs / 1000 / 5);
    let warm: Record<string, RetainedMemory> = {};
    let end: Record<string, RetainedMemory> = {};
    const run = await drive(
      cluster,
      { ...constantLoad(cluster, rps, durationMs, ['demo-enterprise', 'demo-pro', 'demo-free']), max_inflight: 128 },
      async (ctx) => {
        await ctx.at(warmupS * 1000);
        ctx.instant('warm-up ends: GC, retained memory');
        warm = await cluster.retained();
        await ctx.at(Math.max(warmupS * 1000 + 10_000, durationMs - 5_000));
        ctx.instant('GC, retained memory');
        end = await cluster.retained();
      },
      { sampleEveryMs: Math.max(1_000, Math.round(durationMs / 120)) },
    );
    const metrics = await getText(`${cluster.gateway.url}/metrics`).catch(() => '');
    const gatewayLagMaxMs = Math.round(metricValue(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000);
    const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    const keys = Object.keys(warm)
      .filter((k) => end[k] !== undefined)
      .sort();
    const growth = Object.fromEntries(keys.map((k) => [k, mb(end[k]!.retained - warm[k]!.retained)]));
    const rssGrowth = Object.fromEntries(keys.map((k) => [k, growthAfterWarmup(run.samples, k, warmupS)]));
    const worst = keys.length ? Math.max(...Object.values(growth)) : Number.NaN;
    const requests = run.records.length;
    const ok = okRecords(run.records).length;
    return {
      id: '9',
      title: `Soak (${Math.round(durationMs / 60_000)} min)`,
      claim: `memory of gateway and nodes (retained after a full GC) flat within ${SOAK_BOUND_MB} MB after warm-up`,
      ...run,
      capacityRps: capacity,
      checks: [
        check('every request served', ok === requests, `${ok} of ${requests} ok`),
        ...baseChecks(run.records),
        check(
          `retained memory after GC flat within ${SOAK_BOUND_MB} MB per process after warm-up`,
          keys.length > 0 && worst <= SOAK_BOUND_MB,
          `${keys.map((k) => `${k} ${growth[k]} MB (${mb(warm[k]!.retained)} → ${mb(end[k]!.retained)} MB)`).join(', ') || 'not measured'}; RSS after warm-up: ${keys.map((k) => `${k} ${rssGrowth[k] ?? '–'} MB`).join(', ')}`,
        ),
      ],
      figures: {
        offered_rps: rps,
        warmup_s: Math.round(warmupS),
        worst_growth_mb: worst,
        worst_growth_mb_per_1000_requests: requests > 0 ? Math.round((worst / (requests / 1000)) * 100) / 100 : 0,
        ...(gatewayLagMaxMs > 0 ? { gateway_event_loop_lag_max_ms: gatewayLagMaxMs } : {}),
        ...(Object.keys(failedOn).length > 0
          ? {
              failed_attempts_by_node: Object.entries(failedOn)
                .map(([k, v]) => `${k}: ${v}`)
                .join('; '),
            }
          : {}),
      },
    };
  } finally {
    untap();
    await cluster.close();
  }
}
