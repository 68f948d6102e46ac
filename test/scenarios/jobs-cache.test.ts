/**
 * The audio cache end to end: a repeated text is answered from the cache (`x-cache: hit`), also
 * once every node is killed; an uncached text then gets a fast 503 with Retry-After.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  deepMerge,
  SIM_MODELS_DIR,
  simOverrides,
  startGateway,
  startNode,
  waitFor,
  type GatewayHandle,
  type NodeHandle,
} from '../harness/index.ts';

let nodes: NodeHandle[] = [];
let gw: GatewayHandle;
let dir: string;

async function speak(text: string, key = 'demo-pro', extra: Record<string, unknown> = {}): Promise<{ res: Response; body: Buffer; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/v1/synthesize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text, format: 'wav', ...extra }),
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body, ms: performance.now() - t0 };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxgate-cache-'));
  nodes = await Promise.all(['north-1', 'north-2'].map((id) => startNode(id, 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'] })));
  const config = deepMerge(baseConfig(), {
    ...simOverrides(),
    regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
    cache: { dir: join(dir, 'cache'), max_bytes: 16 * 2 ** 20, plans: ['pro'] },
  });
  gw = await startGateway(config);
}, 120_000);

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await Promise.all(nodes.map((n) => n.proc.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe('audio cache', () => {
  it('misses, then hits with the same audio; other plans never use it', async () => {
    const first = await speak('The cache keeps this sentence.');
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('x-cache')).toBe('miss');
    const second = await speak('The  cache keeps this sentence. ');
    expect(second.res.status).toBe(200);
    expect(second.res.headers.get('x-cache')).toBe('hit');
    expect(second.body.equals(first.body)).toBe(true);
    // An explicit different seed is a different rendering: a miss.
    expect((await speak('The cache keeps this sentence.', 'demo-pro', { seed: 99 })).res.headers.get('x-cache')).toBe('miss');
    // The free plan is not enabled for the cache.
    expect((await speak('The cache keeps this sentence.', 'demo-free')).res.headers.get('x-cache')).toBe('miss');
  });

  it('POST /v1/presynth fills the cache at batch priority and reports what was added and what was there', async () => {
    const post = (items: unknown[], key = 'demo-pro') =>
      fetch(`${gw.url}/v1/presynth`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items }),
      });
    const res = await post([
      { text: 'Prepared overnight.', format: 'wav' },
      { text: 'The cache keeps this sentence.', format: 'wav' },
    ]);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { added: number; cached: number; items: { status: string }[] };
    expect(report).toMatchObject({ added: 1, cached: 1 });
    expect(report.items.map((i) => i.status)).toEqual(['added', 'cached']);
    const hit = await speak('Prepared overnight.');
    expect(hit.res.headers.get('x-cache')).toBe('hit');
    expect(hit.res.headers.get('content-type')).toBe('audio/wav');
    expect(hit.body.length).toBeGreaterThan(1000);
    expect((await post([{ text: 'Hello.' }], 'demo-free')).status).toBe(403);
  });

  it('with every node killed, cached texts are still 200 x-cache: hit and uncached ones a fast 503', async () => {
    expect((await speak('Said before the outage.')).res.headers.get('x-cache')).toBe('miss');
    const before = await speak('Said before the outage.');
    expect(before.res.headers.get('x-cache')).toBe('hit');
    await Promise.all(nodes.map((n) => n.kill()));
    await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 10_000, 100);

    const hit = await speak('Said before the outage.');
    expect(hit.res.status).toBe(200);
    expect(hit.res.headers.get('x-cache')).toBe('hit');
    expect(hit.body.equals(before.body)).toBe(true);

    const miss = await speak('Never said before.');
    expect(miss.res.status).toBe(503);
    expect(Number(miss.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Fast: bounded by the capacity wait (500 ms in the harness), not by a synthesis timeout.
    expect(miss.ms).toBeLessThan(3_000);
  });
});
