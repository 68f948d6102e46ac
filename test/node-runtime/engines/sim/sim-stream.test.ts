import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectStream, type EngineContext } from '../../../../node-runtime/src/engines/engine.ts';
import { createSimEngine } from '../../../../node-runtime/src/engines/sim/sim-engine.ts';
import { ManifestSchema } from '../../../../node-runtime/src/packs/manifest.ts';
import { FrameDecoder, StreamChecksum, type EndFrame } from '../../../../protocol/frames.ts';
import { streamSynthesis } from '../../support/frames-client.ts';
import { startRuntime, synthesize, waitForLog, type RuntimeProcess } from '../../support/runtime-process.ts';

/** Sim packs written for this file only: their faults would break any other test that used them. */
const PACKS: Record<string, { parameters: Record<string, unknown>; deterministic?: boolean }> = {
  'sim-die': { parameters: { rtf: 0.2, jitter: 0, ms_per_char: 20, chunk_ms: 100, test_faults: { die_mid_stream: { after_ms: 300 } } } },
  'sim-stall': { parameters: { rtf: 0.2, jitter: 0, ms_per_char: 20, chunk_ms: 100, test_faults: { stall_mid_stream: { after_ms: 300 } } } },
  'sim-fail': { parameters: { rtf: 0, jitter: 0, ms_per_char: 20, chunk_ms: 100, test_faults: { fail_rate: 1 } } },
  'sim-nondet': { parameters: { rtf: 0, jitter: 0, ms_per_char: 20, chunk_ms: 100 }, deterministic: false },
  'sim-bulk': { parameters: { rtf: 0, jitter: 0, ms_per_char: 60, max_audio_ms: 240_000, chunk_ms: 250 } },
};

async function writePacks(names: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'voxgate-sim-stream-'));
  for (const name of names) {
    const pack = PACKS[name]!;
    await mkdir(path.join(dir, name));
    const manifest = {
      name,
      version: '1.0.0',
      engine: 'sim',
      languages: ['en'],
      voices: ['alto'],
      sample_rate: 16_000,
      parameters: pack.parameters,
      files: [],
      ...(pack.deterministic === undefined ? {} : { deterministic: pack.deterministic }),
    };
    await writeFile(path.join(dir, name, 'manifest.json'), JSON.stringify(manifest));
  }
  return dir;
}

function context(parameters: Record<string, unknown>): EngineContext {
  const manifest = ManifestSchema.parse({ name: 'sim-unit', version: '1', engine: 'sim', languages: ['en'], voices: ['a'], sample_rate: 8000, parameters });
  return {
    pack: { dir: '/nonexistent', manifest, file: (p) => p },
    execution: { providers: ['cpu'], deviceId: 0, gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: 1 },
  };
}

describe('sim engine streaming (unit)', () => {
  it('gives the same samples in any chunking, and synthesize() is the stream concatenated', async () => {
    const signal = new AbortController().signal;
    const made = async (chunkMs: number) => {
      const engine = createSimEngine(context({ rtf: 0, jitter: 0, ms_per_char: 20, chunk_ms: chunkMs }), { warn: () => undefined });
      await engine.load();
      const streamed = await collectStream(engine.stream({ text: 'x'.repeat(50), seed: 3, signal }));
      const whole = await engine.synthesize({ text: 'x'.repeat(50), seed: 3, signal });
      expect(Buffer.from(whole.pcm.buffer).equals(Buffer.from(streamed.pcm.buffer))).toBe(true);
      return streamed;
    };
    const a = await made(100);
    const b = await made(370);
    expect(a.chunks).toBe(10); // 1 s of audio in 100 ms chunks
    expect(b.chunks).toBe(3);
    expect(Buffer.from(a.pcm.buffer).equals(Buffer.from(b.pcm.buffer))).toBe(true);
  });

  it('delivers the first chunk after its own share of the compute time', async () => {
    const engine = createSimEngine(context({ rtf: 0.5, jitter: 0, ms_per_char: 20, chunk_ms: 100 }), { warn: () => undefined });
    await engine.load();
    const started = performance.now();
    const arrivals: number[] = [];
    for await (const _chunk of engine.stream({ text: 'x'.repeat(40), signal: new AbortController().signal })) arrivals.push(performance.now() - started);
    expect(arrivals).toHaveLength(8); // 800 ms of audio; 50 ms of compute per chunk
    expect(arrivals[0]!).toBeLessThan(arrivals[7]! / 3);
    expect(arrivals[7]!).toBeGreaterThanOrEqual(390);
  });
});

describe('sim engine streaming in a real runtime process', () => {
  let node: RuntimeProcess;
  let mortal: RuntimeProcess;
  let modelsDir: string;
  let mortalDir: string;
  beforeAll(async () => {
    modelsDir = await writePacks(['sim-die', 'sim-stall', 'sim-fail', 'sim-nondet', 'sim-bulk']);
    mortalDir = await writePacks([]);
    await mkdir(path.join(mortalDir, 'sim-exit'));
    await writeFile(
      path.join(mortalDir, 'sim-exit', 'manifest.json'),
      JSON.stringify({
        name: 'sim-exit',
        version: '1.0.0',
        engine: 'sim',
        languages: ['en'],
        voices: ['alto'],
        sample_rate: 16_000,
        files: [],
        parameters: { rtf: 0.2, jitter: 0, ms_per_char: 20, chunk_ms: 100, test_faults: { die_mid_stream: { after_ms: 200, mode: 'exit' } } },
      }),
    );
    [node, mortal] = await Promise.all([
      startRuntime(['--node-id', 'simstream-1', '--models-dir', modelsDir, '--slots', '2', '--queue', '4']),
      startRuntime(['--node-id', 'simstream-mortal', '--models-dir', mortalDir, '--slots', '1', '--queue', '1']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([node?.stop(), mortal?.stop()]);
    await Promise.all([modelsDir, mortalDir].map((d) => d && rm(d, { recursive: true, force: true })));
  });

  async function inflight(): Promise<number> {
    return ((await (await fetch(`${node.url}/v1/load`)).json()) as { inflight: number }).inflight;
  }

  it('die_mid_stream (reset): audio, then the connection drops with no end or error frame; the node lives on', async () => {
    const read = await streamSynthesis(node.url, { text: 'x'.repeat(50), model: 'sim-die' });
    expect(read.status).toBe(200);
    expect(read.audioFrames).toBe(3); // 300 ms of 100 ms chunks, then the fault
    expect(read.cut).toBe(true);
    expect(read.end).toBeUndefined();
    expect(read.error).toBeUndefined();
    expect(await inflight()).toBe(0);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    const line = await waitForLog(node, (l) => l.model === 'sim-die' && l.stream_outcome === 'cut');
    expect(line).toMatchObject({ chunks: 3, error_code: 'stream_cut' });
    // A one-shot request to the same pack is cut as well: the connection drops, no status.
    await expect(synthesize(node.url, { text: 'x'.repeat(50), model: 'sim-die' }).then((r) => r.arrayBuffer())).rejects.toThrow();
  });

  it('die_mid_stream (exit): the node process is killed mid-stream', async () => {
    const read = await streamSynthesis(mortal.url, { text: 'x'.repeat(50), model: 'sim-exit' });
    expect(read.audioFrames).toBe(2);
    expect(read.cut).toBe(true);
    await new Promise<void>((resolve) =>
      mortal.child.exitCode !== null || mortal.child.signalCode !== null ? resolve() : mortal.child.once('exit', () => resolve()),
    );
    expect(mortal.child.signalCode).toBe('SIGKILL');
  });

  it('stall_mid_stream: audio stops flowing until the deadline ends the stream with an error frame', async () => {
    const read = await streamSynthesis(node.url, { text: 'x'.repeat(50), model: 'sim-stall' }, { headers: { 'x-request-deadline-ms': '1500' } });
    expect(read.audioFrames).toBe(3);
    expect(read.error).toMatchObject({ code: 'deadline_exceeded', retryable: false });
    expect(read.end).toBeUndefined();
    // The last audio frame arrived long before the stream ended: that gap is the stall.
    expect(read.totalMs - read.audioAtMs[2]!).toBeGreaterThan(700);
    expect(await inflight()).toBe(0);
  });

  it('a stalled stream whose client gives up releases the slot', async () => {
    const pending = streamSynthesis(node.url, { text: 'x'.repeat(50), model: 'sim-stall' }, { onAudio: (i) => i === 2 });
    const read = await pending;
    expect(read.audioFrames).toBe(3);
    const left = performance.now();
    while ((await inflight()) > 0 && performance.now() - left < 5000) await new Promise((r) => setTimeout(r, 25));
    expect(await inflight()).toBe(0);
  });

  it('an engine failure after the headers ends the stream with a retryable error frame', async () => {
    const read = await streamSynthesis(node.url, { text: 'x'.repeat(50), model: 'sim-fail' });
    expect(read.status).toBe(200);
    expect(read.audioFrames).toBe(0);
    expect(read.error).toMatchObject({ code: 'engine_failure', retryable: true });
    expect(read.end).toBeUndefined();
    expect(read.cut).toBe(false);
    const line = await waitForLog(node, (l) => l.model === 'sim-fail' && l.msg === 'request completed');
    expect(line).toMatchObject({ stream_outcome: 'failed', error_code: 'engine_failure' });
  });

  it('a non-deterministic pack refuses offset_samples with 409 not_deterministic, and says so', async () => {
    const refused = await streamSynthesis(node.url, { text: 'hello', model: 'sim-nondet', offset_samples: 10 });
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'not_deterministic', retryable: false });
    const plain = await streamSynthesis(node.url, { text: 'hello', model: 'sim-nondet', offset_samples: 0 });
    expect(plain.headers['x-deterministic']).toBe('false');
    expect(plain.end).toBeDefined();
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { models: { name: string; deterministic: boolean }[] };
    expect(Object.fromEntries(load.models.map((m) => [m.name, m.deterministic]))).toMatchObject({ 'sim-nondet': false, 'sim-bulk': true });
  });

  it('a reader that stops reading pauses the engine instead of filling memory, and still gets every sample', async () => {
    // 4,000 characters → 240 s of audio, 7.7 MB of PCM made in no time (rtf 0): without
    // back-pressure the node would push the whole stream into its buffers at once and finish.
    const http = await import('node:http');
    const decoder = new FrameDecoder();
    const checksum = new StreamChecksum();
    let end: EndFrame | undefined;
    const paused = await new Promise<{ finished: boolean; inflight: number }>((resolve, reject) => {
      const req = http.request(`${node.url}/v1/synthesize`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('error', reject);
      req.on('response', (res) => {
        res.pause();
        setTimeout(async () => {
          const state = { finished: node.logs.some((l) => l.model === 'sim-bulk' && l.msg === 'request completed'), inflight: await inflight() };
          res.on('data', (chunk: Buffer) => {
            for (const frame of decoder.push(chunk)) {
              if (frame.type === 'audio') checksum.add(frame.pcm);
              else if (frame.type === 'end') end = frame.end;
            }
          });
          res.on('end', () => resolve(state));
          res.resume();
        }, 1500);
      });
      req.end(JSON.stringify({ text: 'y'.repeat(4000), model: 'sim-bulk', stream: true }));
    });
    expect(paused).toEqual({ finished: false, inflight: 1 });
    expect(end).toMatchObject({ samples: 240 * 16_000 });
    expect(checksum.matches(end!)).toBe(true);
  });
});
