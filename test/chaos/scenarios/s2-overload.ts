/**
 * Scenario 2: 3× overload — only 429/503 with Retry-After, zero 5xx, goodput ≥ 90 % of
 * capacity, admitted p99 within the plan's budget.
 * @module
 */
import { startChaosCluster, type ChaosCluster } from '../cluster/chaos-cluster.ts';
import { baseChecks, capacityRps, okRecords, p99, standardTopology, TEXTS, type Profile } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

/** The plans' timeouts in the harness config (enterprise, pro): the admitted-latency budgets. */
const KEYS = ['demo-enterprise', 'demo-pro'];
const BUDGET_MS = [15_000, 10_000];

export async function overload(profile: Profile, shared?: ChaosCluster): Promise<ScenarioResult> {
  const cluster = shared ?? (await startChaosCluster(standardTopology()));
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const warmMs = 3_000;
    const overloadMs = profile.short ? 10_000 : 30_000;
    const rps = Math.round(capacity * 3);
    const run = await drive(
      cluster,
      {
        targets: cluster.gateways.map((g) => g.url),
        keys: KEYS,
        texts: TEXTS,
        phases: [
          { duration_ms: warmMs, rps: Math.round(capacity * 0.8) },
          { duration_ms: overloadMs, rps },
        ],
        max_requests: Math.ceil((rps * (warmMs + overloadMs)) / 1000) + 10,
        max_inflight: 512,
      },
      async (ctx) => {
        await ctx.at(warmMs);
        const end = ctx.mark(`3x overload (${rps} req/s)`);
        await ctx.at(warmMs + overloadMs);
        end();
      },
    );
    const sent = run.records.filter((r) => r.outcome !== 'client_saturated');
    const window = sent.filter((r) => r.t >= warmMs);
    const windowOk = okRecords(window);
    // Goodput over the overload window: completions of requests started in it, per second of it.
    const goodput = Math.round((windowOk.length / (overloadMs / 1000)) * 10) / 10;
    const unexpected = sent.filter((r) => !['ok', '429', '503'].includes(r.outcome));
    const admittedP99 = KEYS.map((_, k) => p99(okRecords(sent.filter((r) => (r.k ?? 0) === k))));
    return {
      id: '2',
      title: '3x overload',
      claim: 'only 429/503 with Retry-After, zero 5xx, goodput ≥ 90% of capacity, admitted p99 within budget',
      ...run,
      capacityRps: capacity,
      checks: [
        check(
          'only ok, 429 or 503',
          unexpected.length === 0,
          `${unexpected.length} other (${[...new Set(unexpected.map((r) => r.outcome))].join(', ') || 'none'})`,
        ),
        ...baseChecks(run.records),
        check('goodput ≥ 90% of capacity', goodput >= 0.9 * capacity, `${goodput} req/s vs capacity ${capacity} req/s`),
        check(
          'admitted p99 within the plan budget',
          admittedP99.every((v, k) => v <= BUDGET_MS[k]!),
          KEYS.map((key, k) => `${key} p99 ${admittedP99[k]} ms ≤ ${BUDGET_MS[k]} ms`).join('; '),
        ),
      ],
      figures: {
        offered_rps: rps,
        goodput_rps: goodput,
        shed: sent.filter((r) => r.outcome === '429' || r.outcome === '503').length,
        admitted_p99_ms: admittedP99.join(' / '),
      },
    };
  } finally {
    if (!shared) await cluster.close();
  }
}
