/**
 * KNOWN BUG (found by the chaos proving ground, issue 7, scenarios 3 and 6), open:
 * at a modest request rate, one home-region node that breaks its answers (resets mid-body)
 * makes the gateway answer `503 upstream_unavailable` — "retry budget exhausted" — although
 * three healthy nodes sit mostly idle. The Finagle-style deposit (budget_percent of a retry per
 * admitted request) cannot pay for one retry per broken answer when a quarter to a half of the
 * answers break, so requests that could have been retried on another node (nothing had been
 * sent to the client yet) fail instead. The issue asks for zero failed requests while capacity
 * remains.
 *
 * Skipped unless VOXGATE_KNOWN_BUGS=1, so `npm test` stays green until the gateway is fixed:
 *   VOXGATE_KNOWN_BUGS=1 npx vitest run test/regressions/issue-007-retry-budget-single-bad-node.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChaosCluster, type ChaosCluster } from '../chaos/cluster/chaos-cluster.ts';
import { startLoad } from '../chaos/load/run-load.ts';
import { standardTopology, TEXTS } from '../chaos/scenarios/common.ts';

describe.skipIf(process.env['VOXGATE_KNOWN_BUGS'] !== '1')('retry budget vs one bad node', () => {
  let cluster: ChaosCluster;
  beforeAll(async () => {
    cluster = await startChaosCluster(standardTopology());
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('retries answers broken mid-body on other nodes instead of answering 503', async () => {
    cluster.node('north-1').proxy.set({ kind: 'reset_mid_body', fraction: 0.5 });
    const { records } = await startLoad({ targets: [cluster.gateway.url], keys: ['demo-enterprise'], texts: TEXTS, phases: [{ duration_ms: 10_000, rps: 5 }], max_requests: 60 }).done;
    expect(cluster.node('north-1').proxy.stats.faulted).toBeGreaterThan(3);
    const refused = records.filter((r) => r.outcome !== 'ok').map((r) => `${r.status} ${r.code}: ${r.detail}`);
    expect(refused).toEqual([]);
  }, 60_000);
});
