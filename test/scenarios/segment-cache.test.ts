/**
 * The audio cache for long texts, end to end: a text of several segments is kept segment by
 * segment (the nodes' PCM), so asked again — in any format — every segment is spoken from the
 * cache, the same audio, without a node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, deepMerge, SIM_MODELS_DIR, simOverrides, startGateway, startNode, type GatewayHandle, type NodeHandle } from '../harness/index.ts';

let nodes: NodeHandle[] = [];
let gw: GatewayHandle;
let dir: string;

const TEXT = Array.from({ length: 5 }, (_, i) => `Sentence number ${i + 1} of a text long enough to need several segments.`).join(' ');

async function speak(format: string, key = 'demo-pro') {
  const res = await request(`${gw.url}/v1/synthesize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: TEXT, format }),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, trailers: res.trailers, body };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxgate-segcache-'));
  nodes = await Promise.all(['north-1', 'north-2'].map((id) => startNode(id, 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'] })));
  const config = deepMerge(baseConfig(), {
    ...simOverrides(),
    regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
    stream: { max_segment_chars: 160 },
    cache: { dir: join(dir, 'cache'), max_bytes: 16 * 2 ** 20, plans: ['pro'] },
  });
  gw = await startGateway(config);
}, 120_000);

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await Promise.all(nodes.map((n) => n.proc.kill()));
  rmSync(dir, { recursive: true, force: true });
});

describe('segment cache', () => {
  it('a long text asked again is spoken from the cache segment by segment, the same audio, in any format', async () => {
    const first = await speak('pcm');
    expect(first.status).toBe(200);
    const segments = Number(first.headers['x-segments']);
    expect(segments).toBeGreaterThanOrEqual(3);
    expect(first.trailers['x-cached-segments']).toBe('0');
    expect(first.headers['x-cache']).toBe('miss');

    const again = await speak('pcm');
    expect(again.status).toBe(200);
    expect(again.trailers['x-cached-segments']).toBe(String(segments));
    expect(again.trailers['x-node']).toBe(Array(segments).fill('cache').join(','));
    expect(again.body.equals(first.body)).toBe(true);

    // Another format reuses the same entries (PCM before encoding).
    const wav = await speak('wav');
    expect(wav.status).toBe(200);
    expect(wav.trailers['x-cached-segments']).toBe(String(segments));
    expect(wav.body.subarray(44).equals(first.body)).toBe(true);

    // A plan without the cache never reads it.
    const other = await speak('pcm', 'demo-enterprise');
    expect(other.status).toBe(200);
    expect(other.trailers['x-cached-segments']).toBe('0');
  });
});
