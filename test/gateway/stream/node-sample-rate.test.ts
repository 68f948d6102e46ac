/**
 * Where resampling runs: a node that advertises `output_sample_rates` in `/v1/load` is asked for
 * the response rate; an older node (no such field, a strict schema) gets a body without it,
 * answers at its engine's rate, and the gateway's audio-out resamples that audio. The nodes are
 * FrameNode servers (support/frame-node.ts says why): they answer at 8 kHz whatever is asked,
 * which is exactly an older node. A real node resampling is in test/node-runtime/sample-rate.test.ts.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createResampler } from '../../../protocol/resampler.ts';
import { OUTPUT_SAMPLE_RATE } from '../../../gateway/src/audio/formats.ts';
import { audioOut } from '../../../gateway/src/stream/audio-out.ts';
import { reference, SAMPLE_RATE } from './support/frame-node.ts';
import { model, startStack, type StackSetup } from './support/stack.ts';

let stack: StackSetup | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const M = model('m');
const TEXTS = ['First segment of speech. ', 'Second segment follows here. ', 'Third one ends it all.'];
const seg = (text: string) => ({ text, model: M, voice: 'v' });

function advertise(s: StackSetup, id: string): void {
  const e = s.endpoints.all().find((x) => x.id === id)!;
  e.load = {
    ready: true,
    draining: false,
    slots: 4,
    inflight: 0,
    queueDepth: 0,
    queueLimit: 8,
    latencyEwmaMs: 0,
    outputSampleRates: { min: 8000, max: 48_000 },
    at: Date.now(),
  };
}

describe('sample_rate on node requests', () => {
  it('asks the nodes that advertised it for the response rate, and leaves it out for the others', async () => {
    stack = await startStack({ m: ['new', 'old'] });
    advertise(stack, 'new');
    const { run } = stack.run(TEXTS.map(seg), { parallel: 2 });
    for await (const ev of run) void ev;
    const [fresh, old] = stack.nodes;
    expect(fresh!.requests.length).toBeGreaterThan(0);
    expect(old!.requests.length).toBeGreaterThan(0);
    for (const r of fresh!.requests) expect((r.body as { sample_rate?: number }).sample_rate).toBe(OUTPUT_SAMPLE_RATE);
    for (const r of old!.requests) expect(r.body).not.toHaveProperty('sample_rate');
  });

  it('audio an older node sends at its own rate leaves at the response rate, resampled by the gateway', async () => {
    stack = await startStack({ m: ['old'] });
    const { run } = stack.run(TEXTS.map(seg), { parallel: 2 });
    const out = audioOut(run, { outputRate: OUTPUT_SAMPLE_RATE, codecs: { resampler: createResampler, encoder: () => new PassThrough() } });
    const parts: Buffer[] = [];
    for await (const chunk of out.body) parts.push(chunk as Buffer);
    const got = Buffer.concat(parts);

    const r = createResampler(SAMPLE_RATE, OUTPUT_SAMPLE_RATE);
    const native = TEXTS.map((t) => reference(t, 42));
    const want = Buffer.concat([...native.map((pcm) => r.push(pcm)), r.flush()].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
    const nativeSamples = native.reduce((n, pcm) => n + pcm.length, 0);
    expect(got.length / 2).toBe(Math.ceil((nativeSamples * OUTPUT_SAMPLE_RATE) / SAMPLE_RATE));
    expect(got.equals(want)).toBe(true);
    expect(out.samples()).toBe(got.length / 2);
  });
});
