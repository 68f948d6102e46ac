import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitSentences } from '../../node-runtime/src/text/sentences.ts';
import { streamSynthesis } from './support/frames-client.ts';
import { LONG_TEXT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

/** Ten sentences of similar length: the first is about a tenth of the work. */
const MULTI = Array.from({ length: 10 }, (_, i) => `Sentence number ${i + 1} tells the listener something new about the gateway.`).join(' ');

let node: RuntimeProcess;

beforeAll(async () => {
  node = await startRuntime(['--node-id', 'stream-1', '--models-dir', 'models', '--models', 'flite,flite-fast', '--slots', '2', '--queue', '4']);
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

async function oneShotPcm(body: Record<string, unknown>): Promise<Buffer> {
  const res = await synthesize(node.url, { ...body, format: 'pcm' });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function inflight(): Promise<number> {
  return ((await (await fetch(`${node.url}/v1/load`)).json()) as { inflight: number }).inflight;
}

describe('streamed synthesis with flite', () => {
  it('streams a frame per sentence whose concatenation is the one-shot PCM, ended by a verifiable end frame', async () => {
    const read = await streamSynthesis(node.url, { text: LONG_TEXT, voice: 'awb' });
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toBe('application/vnd.voxgate.frames');
    expect(read.headers['content-length']).toBeUndefined();
    expect(read.headers['transfer-encoding']).toBe('chunked');
    expect(read.headers).toMatchObject({ 'x-sample-rate': '16000', 'x-deterministic': 'true', 'x-model': 'flite', 'x-engine': 'flite', 'x-node': 'stream-1' });
    expect(read.audioFrames).toBe(splitSentences(LONG_TEXT).length);
    expect(read.audioFrames).toBeGreaterThan(1);
    expect(read.cut).toBe(false);
    expect(read.end).toMatchObject({ samples: read.pcm.length / 2, sample_rate: 16_000 });
    expect(read.end!.crc32).toBe(crc32(read.pcm));
    expect(read.checksum.matches(read.end!)).toBe(true);

    const whole = await oneShotPcm({ text: LONG_TEXT, voice: 'awb' });
    expect(read.pcm.length).toBe(whole.length);
    expect(read.pcm.equals(whole)).toBe(true);
  });

  it('sends the first sentence long before the last one is synthesised', async () => {
    const read = await streamSynthesis(node.url, { text: MULTI });
    expect(read.end).toBeDefined();
    expect(read.audioFrames).toBe(10);
    // Ten sentences made one after another: the first frame comes after about a tenth of
    // the work. Bound loosely (half) because this machine is shared.
    expect(read.firstAudioMs! - read.headersMs).toBeLessThan((read.totalMs - read.headersMs) / 2);
    expect(read.audioAtMs[9]! - read.audioAtMs[0]!).toBeGreaterThan(0);
    const traceLine = await waitForLog(node, (l) => l.stream === true && l.chunks === 10 && l.stream_outcome === 'complete');
    expect(traceLine?.first_chunk_ms as number).toBeLessThan((traceLine?.compute_ms as number) / 2);
  });

  it('offset_samples gives exactly the tail, wherever it falls', async () => {
    const full = await streamSynthesis(node.url, { text: 'One two three. Four five six. Seven.', model: 'flite-fast' });
    const samples = full.pcm.length / 2;
    expect(full.audioFrames).toBeGreaterThan(1);
    const firstChunk = full.frameSamples[0]!;
    for (const offset of [1, 777, firstChunk, firstChunk + 1, samples - 1, samples, samples + 50]) {
      const tail = await streamSynthesis(node.url, { text: 'One two three. Four five six. Seven.', model: 'flite-fast', offset_samples: offset });
      expect(tail.end, `offset ${offset}`).toMatchObject({ samples: Math.max(0, samples - offset), sample_rate: 8000 });
      expect(tail.pcm.equals(full.pcm.subarray(Math.min(offset, samples) * 2)), `offset ${offset}`).toBe(true);
      expect(tail.checksum.matches(tail.end!)).toBe(true);
    }
    const oneShotTail = await oneShotPcm({ text: 'One two three. Four five six. Seven.', model: 'flite-fast', offset_samples: 777 });
    expect(oneShotTail.equals(full.pcm.subarray(777 * 2))).toBe(true);
  });

  it('a client that leaves mid-stream frees its slot and stops the synthesis', async () => {
    const text = Array.from({ length: 40 }, (_, i) => `This is sentence ${i + 1} of a long answer nobody will hear.`).join(' ');
    const traceId = 'aa'.repeat(16);
    const read = await streamSynthesis(node.url, { text }, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, onAudio: () => true });
    expect(read.audioFrames).toBe(1);
    const left = performance.now();
    while ((await inflight()) > 0 && performance.now() - left < 10_000) await new Promise((r) => setTimeout(r, 25));
    expect(await inflight()).toBe(0);
    const line = await waitForLog(node, (l) => l.trace_id === traceId && l.msg === 'request completed', 5000);
    expect(line).toMatchObject({ stream_outcome: 'client_gone', error_code: 'client_closed_request' });
    // Stopped within a sentence or two of the client leaving, not after all forty.
    expect(line?.chunks as number).toBeLessThan(6);
    // And the node serves the next stream normally.
    expect((await streamSynthesis(node.url, { text: 'Still here.' })).end).toBeDefined();
  });

  it('reports each model as deterministic in /v1/load', async () => {
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { models: { name: string; deterministic: boolean }[] };
    expect(load.models.map((m) => [m.name, m.deterministic])).toEqual([
      ['flite', true],
      ['flite-fast', true],
    ]);
  });

  it('refuses bad stream requests before any header, with stable codes', async () => {
    const bad = await streamSynthesis(node.url, { text: 'hi', offset_samples: -1 });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid_request');
    const long = await streamSynthesis(node.url, { text: 'a'.repeat(4001) });
    expect(long.status).toBe(413);
    expect(JSON.parse(long.body).error.code).toBe('text_too_long');
  });
});
