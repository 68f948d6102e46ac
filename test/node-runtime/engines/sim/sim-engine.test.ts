import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../../node-runtime/src/audio/wav.ts';
import type { EngineContext } from '../../../../node-runtime/src/engines/engine.ts';
import { createSimEngine } from '../../../../node-runtime/src/engines/sim/sim-engine.ts';
import { parseSimParameters } from '../../../../node-runtime/src/engines/sim/sim-parameters.ts';
import { ManifestSchema } from '../../../../node-runtime/src/packs/manifest.ts';
import { REPO_ROOT, startRuntime, synthesize, type RuntimeProcess } from '../../support/runtime-process.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/models');

function context(parameters: Record<string, unknown>, sampleRate = 8000): EngineContext {
  const manifest = ManifestSchema.parse({
    name: 'sim-unit',
    version: '1',
    engine: 'sim',
    languages: ['en'],
    voices: ['a', 'b'],
    sample_rate: sampleRate,
    parameters,
  });
  return {
    pack: { dir: '/nonexistent', manifest, file: (p) => p },
    execution: { providers: ['cpu'], deviceId: 0, gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: 1 },
  };
}

async function loaded(parameters: Record<string, unknown>, random = () => 0.5) {
  const warnings: string[] = [];
  const engine = createSimEngine(context(parameters), { random, warn: (_f, m) => warnings.push(m) });
  await engine.load();
  await engine.warm();
  return { engine, warnings };
}

describe('sim engine (unit)', () => {
  it('announces itself as simulated, in describe() and with a warning at load', async () => {
    const { engine, warnings } = await loaded({});
    expect(engine.describe()).toMatchObject({
      kind: 'sim',
      executionProvider: 'simulated',
      sampleRate: 8000,
      details: { purpose: 'tests and benchmarks only' },
    });
    expect(warnings.join()).toMatch(/tests and benchmarks only/);
  });

  it('returns valid PCM whose length follows ms_per_char and speed, after rtf × audio time', async () => {
    const { engine } = await loaded({ rtf: 0.2, jitter: 0, ms_per_char: 20 });
    const signal = new AbortController().signal;
    const started = performance.now();
    const normal = await engine.synthesize({ text: 'x'.repeat(50), signal }); // 1000 ms of audio → 200 ms
    const elapsed = performance.now() - started;
    expect(normal.pcm.length).toBe(8000);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(600);
    const fast = await engine.synthesize({ text: 'x'.repeat(50), speed: 2, signal });
    expect(fast.pcm.length).toBe(4000);
    expect(Math.max(...normal.pcm)).toBeGreaterThan(5000); // audible, not silence
  });

  it('is deterministic in text, voice and seed', async () => {
    const { engine } = await loaded({ rtf: 0 });
    const signal = new AbortController().signal;
    const bytes = async (r: { text: string; voice?: string; seed?: number }) => Buffer.from((await engine.synthesize({ ...r, signal })).pcm.buffer);
    expect((await bytes({ text: 'same' })).equals(await bytes({ text: 'same' }))).toBe(true);
    expect((await bytes({ text: 'same', voice: 'b' })).equals(await bytes({ text: 'same' }))).toBe(false);
    expect((await bytes({ text: 'same', seed: 7 })).equals(await bytes({ text: 'same' }))).toBe(false);
  });

  it('stops waiting when the signal fires and rejects with its reason', async () => {
    const { engine } = await loaded({ rtf: 1, jitter: 0 });
    const controller = new AbortController();
    const started = performance.now();
    const pending = engine.synthesize({ text: 'x'.repeat(100), signal: controller.signal }); // would take 6 s
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    await expect(pending).rejects.toThrow('deadline');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('fails as a retryable engine_failure when the test fault says so', async () => {
    const { engine } = await loaded({ rtf: 0, test_faults: { fail_rate: 1 } }, () => 0.1);
    await expect(engine.synthesize({ text: 'hi', signal: new AbortController().signal })).rejects.toMatchObject({ code: 'engine_failure' });
  });

  it('refuses invalid parameters and unknown knobs, naming the field', () => {
    expect(() => parseSimParameters({ rtf: -1 })).toThrow(/rtf/);
    expect(() => parseSimParameters({ test_faults: { leak_bytes_per_request: 'lots' } })).toThrow(/leak_bytes_per_request/);
    expect(() => parseSimParameters({ test_faults: { crash: true } })).toThrow(/test_faults/);
    expect(() => parseSimParameters({ min_audio_ms: 500, max_audio_ms: 100 })).toThrow(/min_audio_ms/);
    expect(parseSimParameters(undefined).test_faults).toEqual({ leak_bytes_per_request: 0, fail_rate: 0 });
  });
});

describe('sim engine in a real runtime process', () => {
  let node: RuntimeProcess;
  let leaky: RuntimeProcess;
  beforeAll(async () => {
    [node, leaky] = await Promise.all([
      startRuntime(['--node-id', 'sim-1', '--models-dir', path.join(FIXTURES, 'sim'), '--slots', '2', '--queue', '4']),
      startRuntime(['--node-id', 'leaky-1', '--models-dir', path.join(FIXTURES, 'sim-leaky'), '--models', 'sim-primary', '--slots', '4', '--queue', '8']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([node?.stop(), leaky?.stop()]);
  });

  it('serves a valid WAV and reports execution_provider "simulated" in /v1/load', async () => {
    const res = await synthesize(node.url, { text: 'Hello from the simulator.', model: 'sim-primary' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-engine')).toBe('sim');
    const wav = decodeWav(new Uint8Array(await res.arrayBuffer()));
    expect(wav.sampleRate).toBe(16_000);
    expect(wav.durationS).toBeCloseTo(25 * 0.02, 1); // ms_per_char 20
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { models: { name: string; execution_provider: string }[] };
    expect(load.models.map((m) => m.execution_provider)).toEqual(['simulated', 'simulated']);
    expect(node.logs.some((l) => l.level === 40 && String(l.msg).includes('tests and benchmarks only'))).toBe(true);
  });

  it('gives up at the deadline instead of finishing the simulated inference', async () => {
    const started = performance.now();
    const res = await synthesize(node.url, { text: 'x'.repeat(4000), model: 'sim-primary' }, { 'x-request-deadline-ms': '150' });
    expect(res.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('the leaky test pack grows RSS by about its leak per request', async () => {
    const rss = async () => ((await (await fetch(`${leaky.url}/v1/load`)).json()) as { memory: { rss: number } }).memory.rss;
    const before = await rss();
    for (let i = 0; i < 5; i++) {
      await Promise.all(Array.from({ length: 8 }, async () => (await synthesize(leaky.url, { text: 'leak' })).arrayBuffer()));
    }
    const grown = (await rss()) - before;
    expect(grown).toBeGreaterThan(25 * 1024 * 1024); // 40 requests × 1 MiB, minus GC noise
  });
});
