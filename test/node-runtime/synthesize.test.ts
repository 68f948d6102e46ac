import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../node-runtime/src/audio/wav.ts';
import { LONG_TEXT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

let node: RuntimeProcess;

beforeAll(async () => {
  node = await startRuntime(['--node-id', 'syn-1', '--models-dir', 'models', '--models', 'flite,flite-fast', '--slots', '2', '--queue', '4']);
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

async function audio(body: Record<string, unknown>) {
  const res = await synthesize(node.url, body);
  expect(res.status).toBe(200);
  return { res, wav: decodeWav(new Uint8Array(await res.arrayBuffer())) };
}

describe('POST /v1/synthesize', () => {
  it('returns a valid WAV whose duration grows with the text', async () => {
    const short = await audio({ text: 'Hello.' });
    const long = await audio({ text: LONG_TEXT });
    expect(short.res.headers.get('content-type')).toBe('audio/wav');
    expect(short.wav.sampleRate).toBe(16_000);
    expect(short.wav.channels).toBe(1);
    expect(short.wav.durationS).toBeGreaterThan(0.2);
    expect(long.wav.durationS).toBeGreaterThan(short.wav.durationS * 5);
    expect(Number(long.res.headers.get('x-audio-ms'))).toBeCloseTo(long.wav.durationS * 1000, -1);
    expect(long.res.headers.get('x-node')).toBe('syn-1');
    expect(long.res.headers.get('x-model')).toBe('flite');
    expect(long.res.headers.get('x-model-version')).toBe('1.0.0');
  });

  it('gives different voices different audio, and serves a second pack by name', async () => {
    const slt = await audio({ text: 'Voices differ.', voice: 'slt' });
    const awb = await audio({ text: 'Voices differ.', voice: 'awb' });
    expect(Buffer.from(slt.wav.samples.buffer).equals(Buffer.from(awb.wav.samples.buffer))).toBe(false);
    const kal = await audio({ text: 'Voices differ.', model: 'flite-fast' });
    expect(kal.res.headers.get('x-model')).toBe('flite-fast');
    expect(kal.wav.sampleRate).toBe(8000);
  });

  it('slows down with speed < 1 and returns raw PCM on request', async () => {
    const normal = await audio({ text: 'Speed check, one two three.' });
    const slow = await audio({ text: 'Speed check, one two three.', speed: 0.5 });
    expect(slow.wav.durationS).toBeGreaterThan(normal.wav.durationS * 1.5);
    const res = await synthesize(node.url, { text: 'Speed check, one two three.', format: 'pcm' });
    expect(res.headers.get('content-type')).toBe('audio/pcm');
    expect((await res.arrayBuffer()).byteLength).toBe(normal.wav.samples.length * 2);
  });

  it('accepts instructions, which flite (an engine without style control) ignores; refuses overlong ones', async () => {
    const plain = await audio({ text: 'Directions check.' });
    const directed = await audio({ text: 'Directions check.', instructions: 'Speak cheerfully.' });
    expect(Buffer.from(directed.wav.samples.buffer).equals(Buffer.from(plain.wav.samples.buffer))).toBe(true);
    const res = await synthesize(node.url, { text: 'Directions check.', instructions: 'x'.repeat(4097) });
    expect(res.status).toBe(400);
    await res.arrayBuffer();
  });

  it('uses the trace id from traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await synthesize(node.url, { text: 'Trace me.' }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(res.headers.get('x-trace-id')).toBe(traceId);
    await res.arrayBuffer();
    const line = await waitForLog(node, (l) => l.trace_id === traceId && l.msg === 'request completed');
    expect(line).toMatchObject({ node_id: 'syn-1', model: 'flite', input_len: 9, status: 200, execution_provider: 'wasm' });
    expect(typeof line?.cost_ms).toBe('number');
    // The device that ran it, and node_id once (the logger's base fields already carry it).
    const printed = node.lines.find((l) => l.includes(traceId) && l.includes('"request completed"'))!;
    expect(printed.match(/"node_id":/g)).toHaveLength(1);
    expect(line).not.toHaveProperty('gpu_id');
  });
});

describe('bad input gets a 4xx with a stable code and the node stays healthy', () => {
  const cases: { name: string; body: string; headers?: Record<string, string>; status: number; code: string }[] = [
    { name: 'malformed JSON', body: '{"text": "hi"', status: 400, code: 'invalid_json' },
    { name: 'wrong type', body: JSON.stringify({ text: 42 }), status: 400, code: 'invalid_request' },
    { name: 'unknown field', body: JSON.stringify({ text: 'hi', volume: 11 }), status: 400, code: 'invalid_request' },
    { name: 'empty text', body: JSON.stringify({ text: '   ' }), status: 400, code: 'invalid_request' },
    { name: 'text over the limit', body: JSON.stringify({ text: 'a'.repeat(4001) }), status: 413, code: 'text_too_long' },
    { name: 'body over the byte cap', body: JSON.stringify({ text: 'a'.repeat(70_000) }), status: 413, code: 'body_too_large' },
    { name: 'unknown model', body: JSON.stringify({ text: 'hi', model: 'nope' }), status: 404, code: 'unknown_model' },
    { name: 'unknown voice', body: JSON.stringify({ text: 'hi', voice: 'nope' }), status: 422, code: 'unknown_voice' },
    {
      name: 'wrong content type',
      body: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'bad deadline header', body: JSON.stringify({ text: 'hi' }), headers: { 'x-request-deadline-ms': 'soon' }, status: 400, code: 'invalid_request' },
    { name: 'speed out of range', body: JSON.stringify({ text: 'hi', speed: 100 }), status: 400, code: 'invalid_request' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const res = await synthesize(node.url, c.body, c.headers);
      expect(res.status).toBe(c.status);
      const json = (await res.json()) as { error: { code: string; trace_id: string; retryable: boolean; message: string } };
      expect(json.error.code).toBe(c.code);
      expect(json.error.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(json.error.retryable).toBe(false);
      expect(json.error.message).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it('invalid UTF-8', async () => {
    const res = await fetch(`${node.url}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_encoding');
  });

  it('wrong method and unknown path', async () => {
    expect((await fetch(`${node.url}/v1/synthesize`)).status).toBe(405);
    expect((await fetch(`${node.url}/nope`)).status).toBe(404);
  });

  it('admin endpoints do not exist without a configured token', async () => {
    const res = await fetch(`${node.url}/admin/models/reload`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('is still healthy and serving afterwards', async () => {
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
    await audio({ text: 'Still here.' });
  });
});

describe('GET /v1/load and /metrics', () => {
  it('reports slots, queue, EWMAs, models and memory', async () => {
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as Record<string, unknown>;
    expect(load).toMatchObject({ node_id: 'syn-1', ready: true, draining: false, slots: 2, queue_limit: 4, inflight: 0, queue_depth: 0 });
    expect(load.latency_ewma_ms as number).toBeGreaterThan(0);
    expect(load.rtf_ewma as number).toBeGreaterThan(0);
    expect(load.rtf_ewma as number).toBeLessThan(1);
    expect(load.models).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'flite', version: '1.0.0', engine: 'flite', execution_provider: 'wasm', languages: ['en'] })]),
    );
    expect((load.memory as { rss: number }).rss).toBeGreaterThan(10_000_000);
  });

  it('exposes Prometheus counters by outcome', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(text).toMatch(/voxgate_node_requests_total\{code="ok",model="flite"\} [1-9]/);
    expect(text).toMatch(/voxgate_node_requests_total\{code="invalid_json",model="none"\} 1/);
    expect(text).toContain('voxgate_node_queue_wait_seconds_bucket');
  });
});
