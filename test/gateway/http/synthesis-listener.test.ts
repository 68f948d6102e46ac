/**
 * The gateway's own listener (http/edge.ts) serves the synthesis routes on the Node request
 * and response, and buffered bodies come from a pool that reuses each buffer once its client
 * write finished (upstream/body-pool.ts). A buffer reused too early would hand one client
 * another's audio, so: many concurrent requests with distinct answers, from a node that answers
 * after random delays (so writes and reuse interleave), each checked byte for byte (the rule
 * itself, with a reader slow enough to hold a write, is in request-path/respond.test.ts). Also: a URL
 * with a query string still reaches the same handler through Hono, and other routes are Hono's.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../../node-runtime/src/audio/wav.ts';

/** The gateway streams WAV (sizes 0xFFFFFFFF): clients get the node's samples, not its header. */
function samePcm(body: Buffer, wav: Buffer): boolean {
  return Buffer.from(decodeWav(body).samples.buffer).equals(Buffer.from(decodeWav(wav).samples.buffer));
}
import { baseConfig, deepMerge } from '../../harness/config.ts';
import { startGateway, type GatewayHandle } from '../../harness/cluster.ts';
import { call } from '../../harness/client.ts';
import { startStubNode, type StubNode } from '../../harness/stub-node.ts';

let node: StubNode;
let gw: GatewayHandle;

/** A distinct ~64 KiB WAV per text, like a synthesis of it. */
function audioFor(text: string): Buffer {
  const seed = createHash('sha256').update(text).digest();
  const pcm = new Int16Array(32_768);
  for (let i = 0; i < pcm.length; i++) pcm[i] = seed[i % 32]! * 97 + i;
  return encodeWav(pcm, 24_000);
}

beforeAll(async () => {
  node = await startStubNode(
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { text } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string };
        const wav = audioFor(text);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length, 'x-sample-rate': '24000' });
          res.end(wav);
        }, Math.random() * 15);
      });
    },
    { slots: 64, queueLimit: 64, latencyMs: 5 },
  );
  gw = await startGateway(
    deepMerge(baseConfig(), {
      region: 'north',
      regions: [{ name: 'north', priority: 0, nodes: [{ id: 'n1', url: node.url, models: ['flite-hd', 'flite-fast'] }] }],
      admission: { max_concurrency: 256 },
    }),
  );
});

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await node?.close();
});

describe('synthesis listener and pooled bodies', () => {
  it('gives every client its own audio, sample for sample, under concurrent reuse of body buffers', async () => {
    const texts = Array.from({ length: 240 }, (_, i) => `Request number ${i} wants its own audio.`);
    let next = 0;
    const wrong: string[] = [];
    let ok = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < texts.length) {
          const text = texts[next++]!;
          const r = await call(gw.url, 'demo-enterprise', { text });
          if (r.status !== 200) wrong.push(`${text}: ${r.status}`);
          else if (!samePcm(r.body, audioFor(text))) wrong.push(`${text}: other samples`);
          else ok++;
        }
      }),
    );
    expect(wrong).toEqual([]);
    expect(ok).toBe(texts.length);
  }, 60_000);

  it('answers the same through Hono when the URL has a query string', async () => {
    const text = 'Through the Hono route.';
    const r = await call(gw.url, 'demo-enterprise', { text }, { path: '/v1/synthesize?via=hono' });
    expect(r.status).toBe(200);
    expect(samePcm(r.body, audioFor(text))).toBe(true);
    const bad = await call(gw.url, 'demo-enterprise', { text: '' }, { path: '/v1/synthesize?via=hono' });
    expect(bad.status).toBe(400);
  });

  it('leaves other routes and methods to Hono', async () => {
    expect((await call(gw.url, undefined, undefined, { method: 'GET', path: '/healthz' })).status).toBe(200);
    const get = await call(gw.url, 'demo-enterprise', undefined, { method: 'GET', path: '/v1/synthesize' });
    expect(get.status).toBe(405);
    expect((await call(gw.url, 'demo-enterprise', { text: 'x' }, { path: '/v1/nowhere' })).status).toBe(404);
  });
});
