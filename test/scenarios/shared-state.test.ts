/**
 * Two real gateways sharing a real Redis (Debian's redis-server on a free port), in front of a
 * simulator node: one tenant limit across both gateways; Redis killed under load (no 5xx, each
 * gateway on its share of the limit, the shared limit back when Redis returns); the canary report
 * the same from both.
 *
 * Every plan's limit is a burst of 40 refilled at 2/s, so a run of a few seconds admits about 40
 * per tenant in all when the limit is shared, 80 if each gateway kept its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../gateway/src/canary/report/report-types.ts';
import {
  baseConfig,
  getJson,
  getText,
  metricValue,
  runLoad,
  SIM_MODELS_DIR,
  simOverrides,
  startCluster,
  startGateway,
  synthesize,
  waitFor,
  type CallResult,
  type Cluster,
  type GatewayHandle,
} from '../harness/index.ts';
import { hasRedis, startRedis, type RedisProcess } from '../support/redis-server.ts';

const LIMIT = { rps: 2, burst: 40 };

/** Both gateways, `perGateway` calls each for `key`, 4 at a time per gateway; with the admission window's length. */
async function burst(urls: string[], key: string, perGateway: number): Promise<{ byGateway: CallResult[][]; seconds: number }> {
  const started = performance.now();
  const byGateway = await Promise.all(
    urls.map((url) => runLoad({ concurrency: 4, total: perGateway, fn: (i) => synthesize(url, key, { text: `Shared limit ${i}.` }) })),
  );
  return { byGateway, seconds: (performance.now() - started) / 1000 };
}

const ok = (rs: CallResult[]) => rs.filter((r) => r.status === 200).length;
const unexpected = (rs: CallResult[]) => rs.filter((r) => r.status !== 200 && r.status !== 429).map((r) => `${r.status} ${r.error ?? JSON.stringify(r.json)}`);

describe.skipIf(!hasRedis())('two gateways sharing Redis', () => {
  let redis: RedisProcess;
  let cluster: Cluster;
  let b: GatewayHandle;
  let urls: string[];

  beforeAll(async () => {
    redis = await startRedis();
    const sim = simOverrides() as { models: Record<string, unknown>[]; plans: Record<string, Record<string, unknown>> };
    cluster = await startCluster({
      regions: [{ name: 'north', nodes: 1 }],
      node: { modelsDir: SIM_MODELS_DIR, slots: 8, queue: 32 },
      gateway: {
        models: [...sim.models, { id: 'sim-canary', role: 'canary', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'] }],
        // A plan of its own for the canary's traffic, so the rate-limit tests' calls are not eligible.
        plans: {
          ...Object.fromEntries(Object.entries(sim.plans).map(([name, p]) => [name, { ...p, rate_limit: LIMIT }])),
          mirrored: { ...sim.plans['enterprise'], rate_limit: LIMIT },
        },
        keys: [...(baseConfig()['keys'] as object[]), { key: 'demo-canary', tenant: 'demo-canary', plan: 'mirrored' }],
        canaries: [{ canary: 'sim-canary', baseline: 'sim-hd', sample_rate: 1, plans: ['mirrored'], max_concurrent: 8 }],
        canary_judge: { asr: 'off' },
        shared_state: { redis_url: redis.url, command_timeout_ms: 200 },
      },
    });
    b = await startGateway(cluster.config);
    urls = [cluster.gateway.url, b.url];
    // Each gateway has seen the other's heartbeat: its share while Redis is out is half.
    for (const url of urls) await waitFor(async () => metricValue(await getText(`${url}/metrics`), 'voxgate_gateway_shared_state_replicas') === 2, 10_000, 100);
  }, 120_000);

  afterAll(async () => {
    await b?.proc.stop(2_000);
    await cluster?.close();
    await redis?.stop();
  });

  it('holds one tenant’s limit across both gateways (within 10%)', async () => {
    const { byGateway, seconds } = await burst(urls, 'demo-pro', 60);
    const admitted = byGateway.reduce((n, rs) => n + ok(rs), 0);
    const allowed = LIMIT.burst + LIMIT.rps * seconds;
    expect(byGateway.flatMap(unexpected)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT.burst);
    expect(admitted).toBeLessThanOrEqual(Math.ceil(allowed * 1.1));
    // Both gateways served part of it: the limit is one bucket, not one gateway doing all the work.
    for (const rs of byGateway) expect(ok(rs)).toBeGreaterThan(0);
    for (const url of urls)
      expect(metricValue(await getText(`${url}/metrics`), 'voxgate_gateway_rate_limit_decisions_total', { source: 'shared' })).toBeGreaterThan(0);
  });

  it('serves through a Redis outage with no 5xx, each gateway on its share, and shares the limit again when Redis returns', async () => {
    // Under load: Redis dies half a second into a 2 s run.
    const load = Promise.all(
      urls.map((url) => runLoad({ concurrency: 4, durationMs: 2_000, fn: (i) => synthesize(url, 'demo-free', { text: `Outage ${i}.` }) })),
    );
    await new Promise((r) => setTimeout(r, 500));
    await redis.stop();
    const during = (await load).flat();
    expect(during.length).toBeGreaterThan(20);
    expect(unexpected(during)).toEqual([]);
    for (const url of urls) expect(metricValue(await getText(`${url}/metrics`), 'voxgate_gateway_shared_state_up')).toBe(0);

    // A fresh tenant while Redis is out: each gateway admits about its half of the burst.
    const down = await burst(urls, 'demo-enterprise', 40);
    expect(down.byGateway.flatMap(unexpected)).toEqual([]);
    const share = LIMIT.burst / 2 + (LIMIT.rps / 2) * down.seconds;
    for (const rs of down.byGateway) {
      expect(ok(rs)).toBeGreaterThanOrEqual(LIMIT.burst / 2);
      expect(ok(rs)).toBeLessThanOrEqual(Math.ceil(share * 1.1));
    }
    for (const url of urls)
      expect(metricValue(await getText(`${url}/metrics`), 'voxgate_gateway_rate_limit_decisions_total', { source: 'fallback' })).toBeGreaterThan(0);

    await redis.restart();
    for (const url of urls) await waitFor(async () => metricValue(await getText(`${url}/metrics`), 'voxgate_gateway_shared_state_up') === 1, 10_000, 100);
    const sharedBefore = metricValue(await getText(`${urls[0]}/metrics`), 'voxgate_gateway_rate_limit_decisions_total', { source: 'shared' });
    // The restarted Redis is empty: demo-pro starts from a full shared burst again.
    const back = await burst(urls, 'demo-pro', 60);
    expect(back.byGateway.flatMap(unexpected)).toEqual([]);
    const admitted = back.byGateway.reduce((n, rs) => n + ok(rs), 0);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT.burst);
    expect(admitted).toBeLessThanOrEqual(Math.ceil((LIMIT.burst + LIMIT.rps * back.seconds) * 1.1));
    expect(metricValue(await getText(`${urls[0]}/metrics`), 'voxgate_gateway_rate_limit_decisions_total', { source: 'shared' })).toBeGreaterThan(sharedBefore);
  }, 60_000);

  it('serves the same canary report from both gateways', async () => {
    const calls = await burst(urls, 'demo-canary', 15);
    const sent = calls.byGateway.flat().filter((r) => r.status === 200).length;
    expect(sent).toBeGreaterThan(20);
    const report = async (url: string) => {
      const { generated_at: _at, ...rest } = (await getJson(`${url}/v1/canary/report`)) as Report;
      return rest;
    };
    // Both have pushed their counts and pairs and read everyone's back (a sync a second).
    let last = '';
    await waitFor(
      async () => {
        const [ra, rb] = await Promise.all(urls.map(report));
        const c = ra!.canaries[0]!;
        last = `${JSON.stringify(ra).slice(0, 600)}\n${JSON.stringify(rb).slice(0, 600)}`;
        return JSON.stringify(ra) === JSON.stringify(rb) && c.eligible === sent && c.compared + c.unjudged > 0;
      },
      15_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last reports:\n${last}`);
    });
    const [ra, rb] = await Promise.all(urls.map(report));
    expect(ra).toEqual(rb);
    // Counted on both gateways, reported whole by each: every call of both is eligible here.
    expect(ra!.canaries[0]!.eligible).toBe(sent);
    expect(ra!.canaries[0]!.latency_ms.canary.n).toBe(ra!.canaries[0]!.compared + ra!.canaries[0]!.unjudged);
  }, 40_000);
});
