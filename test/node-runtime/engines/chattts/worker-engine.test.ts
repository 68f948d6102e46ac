/**
 * The registered `chattts` engine runs ChatTTS in a worker thread (onnxruntime-node's
 * session.run is synchronous). Checked here: same audio as the in-process pipeline, the main
 * event loop stays responsive during synthesis, an abort stops the worker's decode loop, and a
 * session failure inside the worker arrives as a retryable engine_failure.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import perfHooks from 'node:perf_hooks';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatttsEngine } from '../../../../node-runtime/src/engines/chattts/chattts-engine.ts';
import type { Engine } from '../../../../node-runtime/src/engines/engine.ts';
import { engineFactory } from '../../../../node-runtime/src/engines/registry.ts';
import { verifyPack } from '../../../../node-runtime/src/packs/verify.ts';
import { CPU, loadTinyEngine, TINY_PACK } from './helpers.ts';

let engine: Engine;
const LONG = Array.from({ length: 5 }, (_, i) => `hello world number ${i + 1}.`).join(' ');

beforeAll(async () => {
  engine = createChatttsEngine({ pack: await verifyPack(TINY_PACK), execution: CPU });
  await engine.load();
  await engine.warm();
});
afterAll(async () => {
  await engine.dispose();
  await engine.dispose(); // idempotent
});

describe('chattts engine (worker thread)', () => {
  it('is the factory the registry hands out', async () => {
    expect(await engineFactory('chattts')).toBe(createChatttsEngine);
    expect(engine.describe()).toMatchObject({ kind: 'chattts', executionProvider: 'cpu', sampleRate: 24000 });
  });

  it('gives the same audio as the in-process pipeline', async () => {
    const local = await loadTinyEngine();
    const a = await engine.synthesize({ text: '你好，世界。', seed: 21, signal: new AbortController().signal });
    const b = await local.synthesize({ text: '你好，世界。', seed: 21, signal: new AbortController().signal });
    await local.dispose();
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(b.pcm.buffer))).toBe(true);
    expect(a.stats?.tokens).toBe(b.stats?.tokens);
  });

  it('keeps the main event loop free while synthesising', async () => {
    // Event-loop utilisation, not timer lag: on a shared, overloaded 2-core machine timers are
    // late by 100 ms even when idle, but ELU only counts time the loop spent running code. With
    // the sessions on the main thread it is close to 1 during synthesis.
    const before = perfHooks.performance.eventLoopUtilization();
    const r = await engine.synthesize({ text: LONG, seed: 1, signal: new AbortController().signal });
    const elu = perfHooks.performance.eventLoopUtilization(before);
    expect(r.stats?.tokens).toBeGreaterThan(20);
    console.log(`main-thread event-loop utilisation during synthesis: ${(elu.utilization * 100).toFixed(1)}%`);
    expect(elu.utilization).toBeLessThan(0.3);
  });

  it('stops the worker decode loop when the request aborts', async () => {
    // The warm duration (the shorter of two runs): a cold first run can take several times
    // longer, and an abort timed from it would land after a warm run had already finished.
    let fullMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 2; i++) {
      const full0 = performance.now();
      await engine.synthesize({ text: LONG, seed: 4, signal: new AbortController().signal });
      fullMs = Math.min(fullMs, performance.now() - full0);
    }
    const ac = new AbortController();
    const reason = new Error('deadline');
    const t0 = performance.now();
    setTimeout(() => ac.abort(reason), fullMs / 4);
    await expect(engine.synthesize({ text: LONG, seed: 4, signal: ac.signal })).rejects.toBe(reason);
    const tookMs = performance.now() - t0;
    expect(tookMs).toBeLessThan(fullMs / 4 + Math.max(50, fullMs / 5));
    // And the worker is free again at once.
    const ok = await engine.synthesize({ text: 'hello.', seed: 1, signal: new AbortController().signal });
    expect(ok.pcm.length).toBeGreaterThan(0);
  });

  it('reports a session failure in the worker as a retryable engine_failure', async () => {
    // A pack whose "decoder" is really the Vocos graph: loads fine, fails at run time.
    const dir = await mkdtemp(path.join(tmpdir(), 'chattts-broken-'));
    await cp(TINY_PACK, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.parameters.graphs.decoder = 'vocos.onnx';
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const broken = createChatttsEngine({ pack: await verifyPack(dir), execution: CPU });
    await broken.load();
    await expect(broken.synthesize({ text: 'hello.', seed: 1, signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'engine_failure',
      status: 503,
      retryable: true,
    });
    await broken.dispose();
    await rm(dir, { recursive: true, force: true });
  });
});
