/**
 * The audio cache end to end: a repeated text is answered from the cache (`x-cache: hit`), also
 * after a gateway restart and once every node is killed; an uncached text then gets a fast 503
 * with Retry-After. A replaced pack version makes the old entries unreachable.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  deepMerge,
  getJson,
  getText,
  metricValue,
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
let config: Record<string, unknown>;

/** Syntheses the nodes completed. */
async function nodeRequests(): Promise<number> {
  let n = 0;
  for (const node of nodes) n += metricValue(await getText(`${node.directUrl}/metrics`), 'voxgate_node_requests_total', { code: 'ok' });
  return n;
}

const ready = () => waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 20_000, 100);

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
  config = deepMerge(baseConfig(), {
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
      // Never read from the cache interactively, so never written to it either.
      { text: 'Refined overnight.', format: 'wav', refine_text: false },
    ]);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { added: number; cached: number; skipped: number; items: { status: string }[] };
    expect(report).toMatchObject({ added: 1, cached: 1, skipped: 1 });
    expect(report.items.map((i) => i.status)).toEqual(['added', 'cached', 'skipped']);
    const hit = await speak('Prepared overnight.');
    expect(hit.res.headers.get('x-cache')).toBe('hit');
    expect(hit.res.headers.get('content-type')).toBe('audio/wav');
    expect(hit.body.length).toBeGreaterThan(1000);
    expect((await post([{ text: 'Hello.' }], 'demo-free')).status).toBe(403);
  });

  it('survives a gateway restart: a text cached before it hits after it, without a node', async () => {
    expect((await speak('Remembered across a restart.')).res.headers.get('x-cache')).toBe('miss');
    await gw.proc.stop(2_000);
    gw = await startGateway(config);
    // Keys need the pack version the nodes report; a healthy node has reported it.
    await ready();
    const before = await nodeRequests();
    const again = await speak('Remembered across a restart.');
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get('x-cache')).toBe('hit');
    expect(await nodeRequests()).toBe(before);
  });

  it('a replaced pack version makes the old entries unreachable: the same text misses, then hits under the new version', async () => {
    const text = 'Spoken by the first version of the pack.';
    await speak(text);
    const old = await speak(text);
    expect(old.res.headers.get('x-cache')).toBe('hit');
    expect(old.res.headers.get('x-model-version')).toBe('1.0.0');
    // The same pack, version 2.0.0, on a node that replaces both old ones (a config change).
    const models = join(dir, 'models-v2');
    cpSync(join(SIM_MODELS_DIR, 'sim-fallback'), join(models, 'sim-fallback'), { recursive: true });
    const manifest = join(models, 'sim-fallback', 'manifest.json');
    writeFileSync(manifest, JSON.stringify({ ...(JSON.parse(readFileSync(manifest, 'utf8')) as object), version: '2.0.0' }));
    const replaced = nodes.splice(0);
    nodes.push(await startNode('north-3', 'north', { modelsDir: models, packs: ['sim-fallback'] }));
    const next = deepMerge(config, {
      regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
    });
    gw.writeConfig(JSON.stringify(next), true);
    await gw.proc.waitForLog((l) => l.msg === 'config reloaded', 10_000);
    await Promise.all(replaced.map((n) => n.proc.kill()));
    await waitFor(
      async () => {
        const s = (await getJson(`${gw.url}/v1/status`)) as { regions: { nodes: { id: string; healthy: boolean }[] }[] };
        const all = s.regions.flatMap((r) => r.nodes);
        return all.length === 1 && all[0]!.id === 'north-3' && all[0]!.healthy;
      },
      20_000,
      100,
    );
    // At once: a new node counts as healthy before its first probe reports its pack version, and
    // until it does the gateway must not key by the version it remembers (the replaced one).

    const fresh = await speak(text);
    expect(fresh.res.status).toBe(200);
    expect(fresh.res.headers.get('x-cache')).toBe('miss');
    expect(fresh.res.headers.get('x-model-version')).toBe('2.0.0');
    // Once the new node has reported its version, the answer is kept under it and hits.
    await waitFor(async () => (await speak(text)).res.headers.get('x-cache') === 'hit', 10_000, 100);
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
