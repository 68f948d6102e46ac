/**
 * Scenario 2: 3× overload — only 429/503 with Retry-After, zero 5xx, goodput ≥ 90 % of
 * capacity, admitted p99 within the plan's budget.
 * @module
 */
import { startChaosCluster, type ChaosCluster } from '../cluster/chaos-cluster.ts';
import { baseChecks, capacityRps, okRecords, p99, standardTopology, TEXTS, type Profile } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

/** The pro plan's timeout in the harness config: the admitted-latency budget. */
const BUDGET_MS = 10_000;

export async function overload(profile: Profile, shared?: ChaosCluster): Promise<ScenarioResult> {
  const cluster = shared ?? (await startChaosCluster(standardTopology()));
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const warmMs = 3_000;
    const overloadMs = profile.short ? 10_000 : 30_000;
    const rps = Math.round(capacity * 3);
    const run = await drive(cluster, {
      targets: cluster.gateways.map((g) => g.url),
      keys: ['demo-enterprise', 'demo-pro'],
      texts: TEXTS,
      phases: [
        { duration_ms: warmMs, rps: Math.round(capacity * 0.8) },
        { duration_ms: overloadMs, rps },
      ],
      max_requests: Math.ceil((rps * (warmMs + overloadMs)) / 1000) + 10,
      max_inflight: 512,
    }, async (ctx) => {
      await ctx.at(warmMs);
      const end = ctx.mark(`3x overload (${rps} req/s)`);
      await ctx.at(warmMs + overloadMs);
      end();
    });
    const sent = run.records.filter((r) => r.outcome !== 'client_saturated');
    const window = sent.filter((r) => r.t >= warmMs);
    const windowOk = okRecords(window);
    // Goodput over the overload window: completions of requests started in it, per second of it.
    const goodput = Math.round((windowOk.length / (overloadMs / 1000)) * 10) / 10;
    const unexpected = sent.filter((r) => !['ok', '429', '503'].includes(r.outcome));
    const admittedP99 = p99(okRecords(sent));
    return {
      id: '2',
      title: '3x overload',
      claim: 'only 429/503 with Retry-After, zero 5xx, goodput ≥ 90% of capacity, admitted p99 within budget',
      ...run,
      capacityRps: capacity,
      checks: [
        check('only ok, 429 or 503', unexpected.length === 0, `${unexpected.length} other (${[...new Set(unexpected.map((r) => r.outcome))].join(', ') || 'none'})`),
        ...baseChecks(run.records),
        check('goodput ≥ 90% of capacity', goodput >= 0.9 * capacity, `${goodput} req/s vs capacity ${capacity} req/s`),
        check('admitted p99 within the plan budget', admittedP99 <= BUDGET_MS, `p99 ${admittedP99} ms ≤ ${BUDGET_MS} ms`),
      ],
      figures: { offered_rps: rps, goodput_rps: goodput, shed: sent.filter((r) => r.outcome === '429' || r.outcome === '503').length, admitted_p99_ms: admittedP99 },
    };
  } finally {
    if (!shared) await cluster.close();
  }
}
