/**
 * The segment run against real HTTP servers speaking the framed protocol (support/frame-node.ts
 * says why these are not node runtimes) through the gateway's real layer stack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../gateway/src/errors/gateway-error.ts';
import { PassThrough } from 'node:stream';
import { createResampler } from '../../../gateway/src/audio/resampler.ts';
import { sseAudioEvents } from '../../../gateway/src/audio/sse-audio-events.ts';
import { audioOut } from '../../../gateway/src/stream/audio-out.ts';
import { reference, SAMPLE_RATE } from './support/frame-node.ts';
import { collect, model, startStack, type StackSetup } from './support/stack.ts';

let stack: StackSetup | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const M = model('m');
const F = model('f', { role: 'fallback' });
const TEXTS = ['First segment of speech. ', 'Second segment follows here. ', 'Third one ends it all.'];
const seg = (text: string) => ({ text, model: M, voice: 'v', fallback: { model: F, voice: 'v' } });
const expected = (texts: string[], seed = 42) => Buffer.concat(texts.map((t) => Buffer.from(reference(t, seed).buffer)));

describe('SegmentRun', () => {
  it('starts the other segments once the first has audio, so nothing competes with the first audio', async () => {
    stack = await startStack({ m: ['a', 'b', 'c'] });
    for (const n of stack.nodes) n.firstChunkDelayMs = 400;
    const { run } = stack.run(TEXTS.map(seg), { parallel: 3 });
    for (let i = 0; i < 100 && stack.nodes.every((n) => n.requests.length === 0); i++) await new Promise((r) => setTimeout(r, 5));
    // Before its first chunk (400 ms in), the first segment is the only node request.
    expect(stack.nodes.flatMap((n) => n.requests).map((r) => r.body.text)).toEqual([TEXTS[0]]);
    await run.first();
    const { pcm } = await collect(run);
    expect(pcm.equals(expected(TEXTS))).toBe(true);
    expect(stack.nodes.flatMap((n) => n.requests).length).toBe(3);
  });

  it('delivers every segment in order, in parallel on different nodes', async () => {
    stack = await startStack({ m: ['a', 'b', 'c'] });
    for (const n of stack.nodes) n.chunkDelayMs = 3;
    const { run } = stack.run(TEXTS.map(seg), { parallel: 3 });
    await run.first();
    const { pcm } = await collect(run);
    expect(pcm.equals(expected(TEXTS))).toBe(true);
    const s = run.summary();
    expect(new Set(s.nodes).size).toBe(3);
    expect(s.models).toEqual(['m']);
    // Every node request asked for a stream with the pinned seed.
    const bodies = stack.nodes.flatMap((n) => n.requests.map((r) => r.body));
    expect(bodies.every((b) => b.stream === true && b.seed === 42)).toBe(true);
  });

  it('closes every node request once its stream ended whole, also when the body ends after the end frame', async () => {
    stack = await startStack({ m: ['a', 'b'] });
    // The end frame and the end of the HTTP body in separate network chunks: the gateway has its
    // answer at the end frame, and must still read the body's end, or the request stays open
    // (and counted in flight by the balancer) for ever.
    for (const n of stack.nodes) n.endDelayMs = 30;
    const { run } = stack.run(TEXTS.map(seg), { parallel: 2 });
    const { pcm } = await collect(run);
    expect(pcm.equals(expected(TEXTS))).toBe(true);
    const inflight = () => stack!.endpoints.all().map((e) => e.inflight);
    for (let i = 0; i < 50 && inflight().some((n) => n > 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(inflight()).toEqual([0, 0]);
    expect(stack.nodes.flatMap((n) => n.requests).every((r) => r.finished && !r.closedEarly)).toBe(true);
  });

  for (const kind of ['die', 'stall', 'error'] as const)
    it(`a node that ${kind}s mid-segment: resumed at the delivered offset elsewhere, PCM identical`, async () => {
      stack = await startStack({ m: ['a', 'b'] }, 300);
      // One fault for the whole cluster (the nodes share the list): whichever node serves it.
      const faults = [{ afterSamples: 1200, kind, textIncludes: 'Second' }];
      for (const n of stack.nodes) n.faults = faults;
      const { run } = stack.run(TEXTS.map(seg), { parallel: 1 });
      const { pcm } = await collect(run);
      expect(pcm.equals(expected(TEXTS))).toBe(true);
      expect(run.summary().resumes).toBe(1);
      const resumed = stack.nodes.flatMap((n) => n.requests).filter((r) => (r.body.offset_samples ?? 0) > 0);
      expect(resumed.length).toBe(1);
      expect(resumed[0]!.body.offset_samples).toBe(1200);
      expect(resumed[0]!.body.text).toBe(TEXTS[1]);
    });

  it('a node that drips audio slower than the minimum speed, never stalling a whole gap: resumed elsewhere, PCM identical', async () => {
    stack = await startStack({ m: ['a', 'b'] });
    // 400 samples (50 ms at 8 kHz) every 200 ms: 0.25× real time, and each gap well inside the
    // 1 s per-try timeout.
    const faults = [{ afterSamples: 400, kind: 'drip' as const, dripMs: 200, textIncludes: 'Second' }];
    for (const n of stack.nodes) n.faults = faults;
    const { run } = stack.run(TEXTS.map(seg), { parallel: 1, upstreamMinSpeed: () => 0.5, upstreamSpeedWindowMs: 300 });
    const { pcm } = await collect(run);
    expect(pcm.equals(expected(TEXTS))).toBe(true);
    expect(run.summary().resumes).toBe(1);
    const resumed = stack.nodes.flatMap((n) => n.requests).find((r) => (r.body.offset_samples ?? 0) > 0);
    expect(resumed?.body.text).toBe(TEXTS[1]);
  });

  it('a bad checksum is a failure: the segment is resumed', async () => {
    stack = await startStack({ m: ['a', 'b'] });
    const faults = [{ afterSamples: 0, kind: 'bad_crc' as const }];
    for (const n of stack.nodes) n.faults = faults;
    const { run } = stack.run([seg(TEXTS[0]!)], { parallel: 1 });
    const { pcm } = await collect(run);
    // The checksum fails only at the end: every sample was delivered, the resume asks for none.
    expect(pcm.equals(expected([TEXTS[0]!]))).toBe(true);
    expect(run.summary().resumes).toBe(1);
  });

  it('non-deterministic pack, hold_segment: a failed segment restarts whole elsewhere, nothing heard twice', async () => {
    stack = await startStack({ m: ['a', 'b'] }, 300);
    const faults = [{ afterSamples: 800, kind: 'die' as const }];
    for (const n of stack.nodes) {
      n.deterministic = false;
      n.faults = faults;
    }
    const text = 'Only segment here.';
    const { run } = stack.run([seg(text)], { parallel: 1 });
    const { pcm } = await collect(run);
    expect(pcm.length).toBe(text.length * 80 * 2);
    // One rendering from start to end: every sample follows the generator's step from the first.
    const s = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    for (let i = 1; i < s.length; i++) expect((((s[i]! - s[i - 1]! + 20000) % 20000) + 20000) % 20000).toBe(7919 % 20000);
    expect(stack.nodes.flatMap((n) => n.requests).every((r) => r.body.offset_samples === undefined)).toBe(true);
  });

  it('no node of the model left: the fallback model speaks, the switch is announced and sticky', async () => {
    stack = await startStack({ m: ['a'], f: ['b'] }, 300);
    stack.nodes[0]!.faults = [{ afterSamples: 400, kind: 'die', textIncludes: 'Second' }];
    const { run } = stack.run(TEXTS.map(seg), { parallel: 1 });
    const { pcm, switches } = await collect(run);
    expect(switches).toEqual(['1:m->f']);
    // Segment 0 whole from m, 400 samples of segment 1 from m, then segment 1 again whole and segment 2 from f.
    const want = Buffer.concat([expected([TEXTS[0]!]), expected([TEXTS[1]!]).subarray(0, 800), expected([TEXTS[1]!, TEXTS[2]!])]);
    expect(pcm.equals(want)).toBe(true);
    expect(run.summary().models).toEqual(['m', 'f']);
    expect(stack.nodes[1]!.requests.map((r) => r.body.text)).toEqual([TEXTS[1], TEXTS[2]]);
  });

  it('SSE: a model switch is announced as a voxgate.model_switch event inside the stream', async () => {
    stack = await startStack({ m: ['a'], f: ['b'] }, 300);
    stack.nodes[0]!.faults = [{ afterSamples: 400, kind: 'die', textIncludes: 'Second' }];
    const { run } = stack.run(TEXTS.map(seg), { parallel: 1 });
    await run.first();
    // The FrameNode rate is the output rate (no resampling) and the "encoder" passes PCM through:
    // only the event plumbing is under test here.
    const out = audioOut(run, {
      outputRate: SAMPLE_RATE,
      codecs: { resampler: createResampler, encoder: () => new PassThrough(), sse: () => sseAudioEvents() },
    });
    let text = '';
    for await (const part of out.body) text += String(part);
    const types = text
      .trimEnd()
      .split('\n\n')
      .map((block) => (JSON.parse(block.slice('data: '.length)) as { type: string }).type);
    expect(types.filter((t) => t === 'voxgate.model_switch')).toHaveLength(1);
    expect(types.at(-1)).toBe('speech.audio.done');
    expect(types.indexOf('voxgate.model_switch')).toBeGreaterThan(0);
    expect(text).toContain('"type":"voxgate.model_switch","segment":1,"from":"m","to":"f"');
  });

  it('a slow reader: bounded bytes held, then cut when it stops reading; every node request cancelled', async () => {
    stack = await startStack({ m: ['a', 'b'] });
    // Long segments at a steady pace: the nodes are still producing when the reader stops.
    for (const n of stack.nodes) n.chunkDelayMs = 2;
    const long = Array.from({ length: 4 }, (_, i) => `Segment number ${i} `.padEnd(3000, 'x') + '. ');
    const { run } = stack.run(long.map(seg), { parallel: 2, maxBufferedBytes: 16 * 1024, readerStallMs: 400 });
    await run.first();
    let maxHeld = 0;
    const it = run[Symbol.asyncIterator]();
    // Read a little, slowly, watching what the run holds.
    for (let i = 0; i < 10; i++) {
      await it.next();
      maxHeld = Math.max(maxHeld, run.budget.held);
      await new Promise((r) => setTimeout(r, 30));
    }
    // Bound + one 400-sample chunk per segment in flight (and the network's own buffers, which are not ours).
    expect(maxHeld).toBeLessThanOrEqual(16 * 1024 + 2 * 800 + 800);
    // Then stop reading: the run cuts itself.
    await new Promise((r) => setTimeout(r, 900));
    expect(run.signal.aborted).toBe(true);
    expect((run.signal.reason as GatewayError).code).toBe('VOX_ERR_CLIENT_CLOSED');
    await expect(it.next()).rejects.toMatchObject({ code: 'VOX_ERR_CLIENT_CLOSED' });
    await new Promise((r) => setTimeout(r, 100));
    const reqs = stack.nodes.flatMap((n) => n.requests);
    expect(reqs.filter((r) => !r.finished).every((r) => r.closedEarly)).toBe(true);
    expect(reqs.some((r) => r.closedEarly)).toBe(true);
  });

  it('the client leaving cancels every segment in flight', async () => {
    stack = await startStack({ m: ['a', 'b'] });
    for (const n of stack.nodes) n.chunkDelayMs = 20;
    const { run, deadline } = stack.run(TEXTS.map(seg), { parallel: 2 });
    await run.first();
    // The second segment starts once the first has audio: let its request reach its node.
    for (let i = 0; i < 100 && stack.nodes.some((n) => n.requests.length === 0); i++) await new Promise((r) => setTimeout(r, 5));
    deadline.abort(new GatewayError('VOX_ERR_CLIENT_CLOSED'));
    await expect(collect(run)).rejects.toMatchObject({ code: 'VOX_ERR_CLIENT_CLOSED' });
    await new Promise((r) => setTimeout(r, 100));
    const reqs = stack.nodes.flatMap((n) => n.requests);
    expect(reqs.length).toBe(2);
    expect(reqs.every((r) => r.closedEarly)).toBe(true);
  });
});
