/**
 * Plan routing and degradation with real node runtimes (flite). One region: `north-1` serves only
 * the primary (`flite-hd`, 1 slot, so a little load makes it busy), `north-2` only the fallback.
 * `flite-hd` claims zh here so the language rule can be observed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, getJson, getText, metricValue, runLoad, startCluster, synthesize, waitFor, type CallResult, type Cluster } from '../harness/index.ts';

let cluster: Cluster;
let url: string;
const EN = 'The quick brown fox jumps over the lazy dog.';
const ZH = '你好，世界。今天天气很好。';

beforeAll(async () => {
  cluster = await startCluster({
    regions: [
      {
        name: 'north',
        nodes: [
          { models: ['flite-hd'], slots: 1, queue: 16 },
          { models: ['flite-fast'], slots: 2 },
        ],
      },
    ],
    gateway: {
      models: [
        { id: 'flite-hd', role: 'primary', engine: 'flite', pack: 'flite', languages: ['en', 'zh'], voices: ['slt', 'rms', 'awb'], default_voice: 'slt' },
        { id: 'flite-fast', role: 'fallback', engine: 'flite', pack: 'flite-fast', languages: ['en'], voices: ['kal'], default_voice: 'kal' },
      ],
      plans: {
        free: {
          policy: 'fallback_unless_idle',
          primary: 'flite-hd',
          fallback: 'flite-fast',
          max_text_chars: 300,
          long_text: 'reject',
          rate_limit: { rps: 1000, burst: 1000 },
          load_share: 0.6,
        },
        pro: {
          policy: 'primary_unless_busy',
          primary: 'flite-hd',
          fallback: 'flite-fast',
          max_text_chars: 120,
          long_text: 'truncate',
          rate_limit: { rps: 1000, burst: 1000 },
          load_share: 0.85,
        },
        enterprise: {
          policy: 'primary_always',
          primary: 'flite-hd',
          fallback: 'flite-fast',
          max_text_chars: 3000,
          long_text: 'truncate',
          rate_limit: { rps: 1000, burst: 1000 },
        },
        tiny: { policy: 'fallback_unless_idle', primary: 'flite-hd', fallback: 'flite-fast', max_text_chars: 100, rate_limit: { rps: 0.5, burst: 2 } },
      },
      keys: [
        { key: 'demo-free', tenant: 'demo-free', plan: 'free' },
        { key: 'demo-pro', tenant: 'demo-pro', plan: 'pro' },
        { key: 'demo-enterprise', tenant: 'demo-enterprise', plan: 'enterprise' },
        { key: 'demo-tiny', tenant: 'tiny', plan: 'tiny' },
      ],
      degradation: { busy_enter_wait_ms: 250, busy_exit_wait_ms: 60, idle_enter_utilization: 0.25, idle_exit_utilization: 0.5 },
    },
  });
  url = cluster.gateway.url;
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

const pick = (r: CallResult) => ({ status: r.status, model: r.headers['x-model'], degraded: r.headers['x-degraded'] });

/** Waits until the primary node is idle and fully available again (breaker, saturation, load). */
async function primaryIdle(): Promise<void> {
  await waitFor(
    async () => {
      const s = (await getJson(`${url}/v1/status`)) as {
        regions: { nodes: { id: string; healthy: boolean; breaker: string; saturated: boolean; inflight: number }[] }[];
      };
      const n = s.regions[0]!.nodes.find((x) => x.id === 'north-1')!;
      return n.healthy && n.breaker === 'closed' && !n.saturated && n.inflight === 0;
    },
    15_000,
    100,
  );
}

describe('routing by plan and load', () => {
  it('an idle cluster: every plan gets the primary, with the contract headers', async () => {
    for (const key of ['demo-enterprise', 'demo-pro', 'demo-free']) {
      const r = await synthesize(url, key, { text: EN });
      expect(pick(r)).toEqual({ status: 200, model: 'flite-hd', degraded: undefined });
      expect(r.headers['content-type']).toBe('audio/wav');
      expect(r.body.subarray(0, 4).toString()).toBe('RIFF');
      // Every answer streams as it is made (chunked), with x-cache: miss.
      expect(r.headers['content-length']).toBeUndefined();
      expect(r.headers['x-cache']).toBe('miss');
      expect(r.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
      expect([r.headers['x-region'], r.headers['x-node'], r.headers['x-attempts']]).toEqual(['north', 'north-1', '1']);
    }
    const traced = await synthesize(url, 'demo-pro', { text: EN, format: 'pcm' }, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(traced.headers['x-trace-id']).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traced.headers['content-type']).toBe('audio/pcm');
  });

  it('under load on the primary: enterprise stays, pro degrades (primary_busy), free takes the fallback; all recover after', async () => {
    const stop = new AbortController();
    // Four at a time on a one-slot node: a queue the primary can still serve within a try, and
    // an estimated wait (3–4 × flite's ~70–150 ms) over busy_enter_wait_ms whatever the machine's
    // speed (with two, a quiet machine's flite stayed under it and pro never degraded).
    const load = runLoad({ concurrency: 4, durationMs: 20_000, signal: stop.signal, fn: () => synthesize(url, 'demo-enterprise', { text: EN }) });
    await new Promise((r) => setTimeout(r, 600));
    const during: CallResult[] = [];
    for (let i = 0; i < 5; i++) {
      during.push(await synthesize(url, 'demo-pro', { text: EN }));
      during.push(await synthesize(url, 'demo-free', { text: EN }));
    }
    const zh = [await synthesize(url, 'demo-free', { text: ZH }), await synthesize(url, 'demo-pro', { text: ZH })];
    stop.abort();
    const ent = await load;
    expect(
      ent
        .filter((r) => !(r.status === 200 && r.headers['x-model'] === 'flite-hd' && !r.headers['x-degraded']))
        .map((r) => [r.status, r.headers['x-model'], r.headers['x-degraded'], r.ms, r.json]),
    ).toEqual([]);
    const pro = during.filter((_, i) => i % 2 === 0);
    const free = during.filter((_, i) => i % 2 === 1);
    // Hysteresis: once degraded, pro stays degraded for the whole load (no flapping).
    expect(pro.map(pick)).toEqual(pro.map(() => ({ status: 200, model: 'flite-fast', degraded: 'primary_busy' })));
    expect(free.map(pick)).toEqual(free.map(() => ({ status: 200, model: 'flite-fast', degraded: undefined })));
    // A Chinese text is never handed to the fallback, which cannot speak it, whatever the load.
    expect(zh.map(pick)).toEqual([
      { status: 200, model: 'flite-hd', degraded: undefined },
      { status: 200, model: 'flite-hd', degraded: undefined },
    ]);
    await primaryIdle();
    expect(pick(await synthesize(url, 'demo-pro', { text: EN }))).toEqual({ status: 200, model: 'flite-hd', degraded: undefined });
    expect(pick(await synthesize(url, 'demo-free', { text: EN }))).toEqual({ status: 200, model: 'flite-hd', degraded: undefined });
    const metrics = await getText(`${url}/metrics`);
    expect(metricValue(metrics, 'voxgate_gateway_degraded_total', { reason: 'primary_busy' })).toBe(pro.length);
  });

  it('long texts: truncated at a sentence for pro (x-truncated), refused for free (413)', async () => {
    const long = 'This is the first sentence of a long text. This second sentence will not fit in the plan limit at all, no.';
    const text = `${long} ${long}`;
    const pro = await synthesize(url, 'demo-pro', { text });
    expect(pro.status).toBe(200);
    expect(pro.headers['x-truncated']).toBe('true');
    const free = await synthesize(url, 'demo-free', { text: 'word '.repeat(100) });
    expect(free.status).toBe(413);
    expect(free.json).toMatchObject({ error: { code: 'text_too_long', retryable: false, trace_id: free.headers['x-trace-id'] } });
  });

  it('a large answer streams whole (chunked, a streaming WAV header)', async () => {
    await primaryIdle();
    const text = 'Streaming keeps memory flat while a long answer flows to the client. '.repeat(12);
    const r = await synthesize(url, 'demo-enterprise', { text });
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(128 * 1024);
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.body.subarray(0, 4).toString()).toBe('RIFF');
  });

  it('OpenAI-compatible /v1/audio/speech: tts-1-hd → primary, tts-1 → fallback, OpenAI error shape', async () => {
    await primaryIdle();
    const hd = await call(url, 'demo-enterprise', { model: 'tts-1-hd', input: EN, voice: 'alloy', response_format: 'wav' }, { path: '/v1/audio/speech' });
    expect(pick(hd)).toEqual({ status: 200, model: 'flite-hd', degraded: undefined });
    const std = await call(url, 'demo-enterprise', { model: 'tts-1', input: EN, voice: 'nova', response_format: 'pcm' }, { path: '/v1/audio/speech' });
    expect([std.status, std.headers['x-model'], std.headers['content-type']]).toEqual([200, 'flite-fast', 'audio/pcm']);
    const mp3 = await call(url, 'demo-pro', { model: 'tts-1', input: EN, voice: 'alloy' }, { path: '/v1/audio/speech' });
    expect([mp3.status, mp3.headers['content-type']]).toEqual([200, 'audio/mpeg']);
    const bad = await call(url, 'demo-pro', { model: 'tts-1', input: EN, voice: 'alloy', response_format: 'ogg' }, { path: '/v1/audio/speech' });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'unsupported_format', param: 'response_format' } });
    const noKey = await call(url, undefined, { model: 'tts-1', input: EN, voice: 'alloy' }, { path: '/v1/audio/speech' });
    expect(noKey.status).toBe(401);
    expect(noKey.json).toMatchObject({ error: { type: 'authentication_error', code: 'unauthorized' } });
  });

  it('admission errors: 401, 422 unknown voice, 429 with Retry-After, 404/405 with the envelope', async () => {
    expect((await synthesize(url, 'nope', { text: EN })).status).toBe(401);
    const voice = await synthesize(url, 'demo-pro', { text: EN, voice: 'darth' });
    expect([voice.status, (voice.json as { error: { code: string } }).error.code]).toEqual([422, 'unknown_voice']);
    const tiny = [];
    for (let i = 0; i < 3; i++) tiny.push(await synthesize(url, 'demo-tiny', { text: 'Hi.' }));
    expect(tiny.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(Number(tiny[2]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(tiny[2]!.json).toMatchObject({ error: { code: 'rate_limited', retryable: true } });
    const nf = await call(url, 'demo-pro', undefined, { path: '/v2/nothing', method: 'GET' });
    expect([nf.status, (nf.json as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
    const na = await call(url, 'demo-pro', undefined, { path: '/v1/synthesize', method: 'GET' });
    expect([na.status, (na.json as { error: { code: string } }).error.code]).toEqual([405, 'method_not_allowed']);
  });

  it('GET /v1/status follows the contract', async () => {
    const s = (await getJson(`${url}/v1/status`)) as Record<string, unknown>;
    expect(s).toMatchObject({
      region: 'north',
      regions: [
        {
          name: 'north',
          healthy: true,
          nodes: [
            { id: 'north-1', url: cluster.node('north-1').url, models: ['flite-hd'], healthy: true, breaker: 'closed', inflight: 0, queue_depth: 0 },
            { id: 'north-2', url: cluster.node('north-2').url, models: ['flite-fast'], healthy: true, breaker: 'closed', inflight: 0, queue_depth: 0 },
          ],
        },
      ],
    });
  });

  it('with the primary gone: English degrades (primary_unavailable), Chinese gets a clear 503, never the fallback', async () => {
    await cluster.node('north-1').kill();
    const ent = await synthesize(url, 'demo-enterprise', { text: EN });
    expect(pick(ent)).toEqual({ status: 200, model: 'flite-fast', degraded: 'primary_unavailable' });
    const pro = await synthesize(url, 'demo-pro', { text: EN });
    expect(pick(pro)).toEqual({ status: 200, model: 'flite-fast', degraded: 'primary_unavailable' });
    const t0 = Date.now();
    const zh = await synthesize(url, 'demo-enterprise', { text: ZH });
    expect(zh.status).toBe(503);
    expect(zh.headers['retry-after']).toBeDefined();
    expect((zh.json as { error: { code: string } }).error.code).toMatch(/no_capacity|upstream_unavailable/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
