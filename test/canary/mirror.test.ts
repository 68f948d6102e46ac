/**
 * The mirror against a fake canary node (a real HTTP server on 127.0.0.1 that records what it
 * receives): sampling, the plan filter, the cap, headroom, the x-shadow mark, error answers,
 * mirrors the judge cannot afford, and that `observe()` returns before the canary has answered.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { CanarySchema } from '../../gateway/src/config/canary.ts';
import type { ModelConfig } from '../../gateway/src/config/schema.ts';
import { systemClock } from '../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../gateway/src/observability/logger.ts';
import { createMirror, type MirrorOutcome, type ShadowSink } from '../../gateway/src/canary/mirror/mirror.ts';
import { sampled } from '../../gateway/src/canary/mirror/sampler.ts';
import type { ShadowEvent } from '../../gateway/src/request-path/shadow/shadow.ts';
import { EndpointSet } from '../../gateway/src/upstream/endpoints.ts';
import { encodeWav } from '../../gateway/src/canary/audio/wav.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

interface Seen {
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

async function fakeNode(opts: { delayMs?: number; status?: number } = {}): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const wav = encodeWav(new Float32Array(8000), 16_000);
  const app = new Hono();
  app.post('/v1/synthesize', async (c) => {
    seen.push({ headers: c.req.header(), body: await c.req.json() });
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (opts.status && opts.status !== 200) return c.json({ error: { code: 'queue_full', message: 'full', retryable: true } }, opts.status as 503);
    return c.body(wav.buffer as ArrayBuffer, 200, { 'content-type': 'audio/wav', 'x-sample-rate': '16000', 'x-model-version': '9.9.9' });
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

class Sink implements ShadowSink {
  counts: Record<string, number> = {};
  outcomes: MirrorOutcome[] = [];
  /** Pairs the judge would still take (the real budget is tested in service.test.ts). */
  affordable = Infinity;
  count(canary: string, name: string) {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }
  canJudge() {
    return this.affordable > 0;
  }
  admit() {
    if (this.affordable <= 0) return undefined;
    this.affordable--;
    return { settle: () => {} };
  }
  submit(o: MirrorOutcome) {
    this.outcomes.push(o);
  }
}

const MODELS = new Map<string, ModelConfig>([
  [
    'canary-m',
    { id: 'canary-m', role: 'canary', engine: 'flite', pack: 'flite', languages: ['en'], voices: ['rms'], openai_voices: {} } as unknown as ModelConfig,
  ],
]);

function setup(url: string, canary: Record<string, unknown>) {
  const endpoints = new EndpointSet([{ name: 'north', priority: 0, nodes: [{ id: 'c1', url, models: ['canary-m'] }] }], systemClock);
  const sink = new Sink();
  const mirror = createMirror({
    canaries: () => [CanarySchema.parse({ canary: 'canary-m', baseline: 'primary', ...canary })],
    models: () => MODELS,
    endpoints,
    home: () => 'north',
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    sink,
  });
  closers.push(() => mirror.close());
  return { endpoints, sink, mirror };
}

/** `audio: null` = the baseline streamed (no bytes kept). */
function event(text: string, plan = 'pro', audio: Buffer | null = Buffer.from(encodeWav(new Float32Array(8000), 16_000))): ShadowEvent {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    tenant: 't',
    input: { text, voice: 'slt', format: 'wav', speed: undefined, seed: undefined, role: undefined },
    text,
    plan: { planName: plan } as ShadowEvent['plan'],
    served: {
      model: 'primary',
      node: 'p1',
      region: 'north',
      status: 200,
      latencyMs: 42,
      attempts: 1,
      headers: { 'x-sample-rate': '16000' },
      audio: audio ?? undefined,
    },
  };
}

/** Texts the sampler puts in (or out) at `rate`. */
const texts = (rate: number, inside: boolean, n: number) =>
  Array.from({ length: 2000 }, (_, i) => `sentence ${i}`)
    .filter((t) => sampled(t, rate) === inside)
    .slice(0, n);

describe('mirror', () => {
  it('mirrors sampled texts only, marked x-shadow, with the canary pack and its own voice', async () => {
    const node = await fakeNode();
    const { sink, mirror } = setup(node.url, { sample_rate: 0.2 });
    const [yes] = texts(0.2, true, 1);
    const [no] = texts(0.2, false, 1);
    // Streamed bodies are teed only for requests some canary will sample.
    expect([mirror.captureStreams!(yes!, 'pro'), mirror.captureStreams!(no!, 'pro')]).toEqual([true, false]);
    mirror.observe(event(no!));
    mirror.observe(event(yes!));
    await mirror.close();
    expect(sink.counts).toEqual({ eligible: 2, sampled: 1, mirrored: 1 });
    expect(node.seen).toHaveLength(1);
    expect(node.seen[0]!.headers['x-shadow']).toBe('1');
    expect(node.seen[0]!.headers['x-request-deadline-ms']).toBe('10000');
    expect(node.seen[0]!.body).toMatchObject({ text: yes, model: 'flite', voice: 'rms', format: 'wav' });
    const o = sink.outcomes[0]!;
    expect(o.answer).toMatchObject({ ok: true, sampleRate: 16_000, version: '9.9.9', node: 'c1' });
    expect(o.baseline).toMatchObject({ latencyMs: 42, sampleRate: 16_000 });
    expect(o.servedModel).toBe('primary');
  });

  it('never mirrors a text in a language the canary does not speak', async () => {
    const node = await fakeNode();
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    mirror.observe({ ...event('你好，世界。'), plan: { planName: 'pro', languages: ['zh'] } as unknown as ShadowEvent['plan'] });
    mirror.observe({ ...event('Hello there.'), plan: { planName: 'pro', languages: ['en'] } as unknown as ShadowEvent['plan'] });
    await mirror.close();
    expect(sink.counts).toEqual({ eligible: 1, sampled: 1, mirrored: 1 });
    expect(node.seen.map((s) => s.body['text'])).toEqual(['Hello there.']);
  });

  it('returns at once, never waiting for the canary', async () => {
    const node = await fakeNode({ delayMs: 300 });
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    const t0 = performance.now();
    mirror.observe(event('hello there'));
    // Far below the node's 300 ms: observe() only starts the request.
    expect(performance.now() - t0).toBeLessThan(150);
    expect(sink.outcomes).toHaveLength(0);
    await mirror.close();
    expect(sink.outcomes).toHaveLength(1);
  });

  it('drops and counts at the cap and without headroom, and skips other plans', async () => {
    const node = await fakeNode({ delayMs: 200 });
    const { sink, mirror, endpoints } = setup(node.url, { sample_rate: 1, max_concurrent: 1, plans: ['pro'] });
    mirror.observe(event('one'));
    mirror.observe(event('two'));
    mirror.observe(event('three', 'free'));
    mirror.observe(event('four', 'pro', null));
    expect(sink.counts).toEqual({ eligible: 3, sampled: 3, mirrored: 1, dropped_cap: 2 });
    await mirror.close();

    const second = setup(node.url, { sample_rate: 1 });
    second.endpoints.all()[0]!.healthy = false;
    second.mirror.observe(event('five'));
    const e = second.endpoints.all()[0]!;
    e.healthy = true;
    e.inflight = 2; // both slots (default 1 without a load report) busy
    second.mirror.observe(event('six'));
    expect(second.sink.counts).toEqual({ eligible: 2, sampled: 2, dropped_no_headroom: 2 });
    expect(endpoints).toBeDefined();
  });

  it("mirrors beyond the judge budget for errors and latency, keeping neither side's audio", async () => {
    const node = await fakeNode();
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    sink.affordable = 1;
    mirror.observe(event('one'));
    // One at a time: the node has one slot (no load report), and a mirror never queues.
    while (sink.outcomes.length < 1) await new Promise((r) => setTimeout(r, 5));
    mirror.observe(event('two'));
    await mirror.close();
    expect(sink.counts).toEqual({ eligible: 2, sampled: 2, mirrored: 2 });
    expect(node.seen).toHaveLength(2);
    const [judged, unjudged] = sink.outcomes;
    expect(judged!.ticket).toBeDefined();
    expect(judged!.baseline.bytes?.length).toBeGreaterThan(44);
    expect(judged!.answer).toMatchObject({ ok: true });
    expect((judged!.answer as { bytes?: Uint8Array }).bytes?.length).toBeGreaterThan(44);
    expect(unjudged!.ticket).toBeUndefined();
    expect(unjudged!.baseline.bytes).toBeUndefined();
    expect(unjudged!.answer).toMatchObject({ ok: true, version: '9.9.9', node: 'c1' });
    expect((unjudged!.answer as { bytes?: Uint8Array }).bytes).toBeUndefined();
    expect(unjudged!.answer.latencyMs).toBeGreaterThan(0);
    expect(mirror.budget.tryAcquire('canary-m', 1)).toBeDefined(); // the shadow cap slots were given back
  });

  it('reports a canary error answer with the runtime code', async () => {
    const node = await fakeNode({ status: 503 });
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    mirror.observe(event('hello'));
    await mirror.close();
    expect(sink.outcomes[0]!.answer).toMatchObject({ ok: false, code: 'queue_full', timeout: false });
  });

  it('counts a canary that does not answer in time as a timeout', async () => {
    const node = await fakeNode({ delayMs: 1_000 });
    const { sink, mirror } = setup(node.url, { sample_rate: 1, timeout_ms: 100 });
    mirror.observe(event('hello'));
    await mirror.close();
    expect(sink.outcomes[0]!.answer).toMatchObject({ ok: false, code: 'canary_timeout', timeout: true });
  });
});

describe('streamed baselines', () => {
  it('tees the body: the client gets every byte, the judge a copy once it ended', async () => {
    const { teeBody } = await import('../../gateway/src/request-path/shadow/tee.ts');
    const { Readable } = await import('node:stream');
    const parts = [Buffer.from('RIFF'), Buffer.alloc(1000, 1), Buffer.alloc(500, 2)];
    const t = teeBody(Readable.from(parts), 10_000);
    const got: Buffer[] = [];
    for await (const c of t.body) got.push(c as Buffer);
    expect(Buffer.concat(got)).toEqual(Buffer.concat(parts));
    expect(await t.audio).toEqual(Buffer.concat(parts));

    const big = teeBody(Readable.from(parts), 100);
    for await (const _ of big.body) void _;
    expect(await big.audio).toBeUndefined();

    let destroyed = false;
    const upstream = new Readable({ read() {} });
    upstream.on('close', () => (destroyed = true));
    upstream.push(Buffer.alloc(10));
    const cut = teeBody(upstream, 10_000);
    const it = cut.body[Symbol.asyncIterator]();
    await it.next();
    cut.body.destroy();
    expect(await cut.audio).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(destroyed).toBe(true);
  });

  it('mirrors a streamed baseline once its audio is complete, and drops one that broke off', async () => {
    const node = await fakeNode();
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    expect(mirror.captureStreams!('streamed', 'pro')).toBe(true);
    let finish!: (b: Buffer | undefined) => void;
    const ev = event('streamed', 'pro', null);
    ev.served.audioLater = new Promise((r) => (finish = r));
    mirror.observe(ev);
    const broken = event('broken', 'pro', null);
    broken.served.audioLater = Promise.resolve(undefined);
    mirror.observe(broken);
    await new Promise((r) => setTimeout(r, 20));
    expect(node.seen).toHaveLength(0);
    finish(Buffer.from(encodeWav(new Float32Array(100), 16_000)));
    await new Promise((r) => setTimeout(r, 20));
    await mirror.close();
    expect(node.seen.map((s) => s.body.text)).toEqual(['streamed']);
    expect(sink.counts).toMatchObject({ sampled: 2, mirrored: 1, dropped_baseline_streamed: 1 });
    expect(mirror.captureStreams!('streamed', 'pro')).toBe(false);
  });

  it('neither copies nor waits for a streamed baseline the judge cannot afford, and mirrors it for errors and latency', async () => {
    const node = await fakeNode();
    const { sink, mirror } = setup(node.url, { sample_rate: 1 });
    sink.affordable = 0;
    expect(mirror.captureStreams!('streamed', 'pro')).toBe(false);
    mirror.observe(event('streamed', 'pro', null));
    await mirror.close();
    expect(sink.counts).toEqual({ eligible: 1, sampled: 1, mirrored: 1 });
    expect(node.seen).toHaveLength(1);
    const o = sink.outcomes[0]!;
    expect(o.ticket).toBeUndefined();
    expect(o.baseline.bytes).toBeUndefined();
    expect(o.answer).toMatchObject({ ok: true });
  });
});
