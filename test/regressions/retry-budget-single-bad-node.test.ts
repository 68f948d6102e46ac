/**
 * Regression (found by the chaos proving ground, scenarios 3–6; fixed): at a modest
 * request rate, one home-region node that breaks its answers (resets mid-body) made the gateway
 * answer `503 upstream_unavailable` — "retry budget exhausted" — although three healthy nodes sat
 * mostly idle. The binding limit was the Envoy concurrency floor (min_retry_concurrency 3): each
 * retry holds its slot for a whole ~1.5 s synthesis, so a handful of broken answers filled it. A
 * retry may now take an idle slot of its model beyond that floor (layers/retry/retry-budget.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosCluster, type ChaosCluster } from '../chaos/cluster/chaos-cluster.ts';
import { startLoad } from '../chaos/load/run-load.ts';
import { standardTopology, TEXTS } from '../chaos/scenarios/common.ts';

describe('retry budget vs one bad node', () => {
  let cluster: ChaosCluster;
  beforeAll(async () => {
    cluster = await startChaosCluster(standardTopology());
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('retries answers broken mid-body on other nodes instead of answering 503', async () => {
    cluster.node('north-1').proxy.set({ kind: 'reset_mid_body', fraction: 0.5 });
    const { records } = await startLoad({
      targets: [cluster.gateway.url],
      keys: ['demo-enterprise'],
      texts: TEXTS,
      phases: [{ duration_ms: 10_000, rps: 5 }],
      max_requests: 60,
    }).done;
    expect(cluster.node('north-1').proxy.stats.faulted).toBeGreaterThan(3);
    const refused = records.filter((r) => r.outcome !== 'ok').map((r) => `${r.status} ${r.code}: ${r.detail}`);
    expect(refused).toEqual([]);
  }, 60_000);
});
