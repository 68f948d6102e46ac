/**
 * Streaming end to end with real processes on 127.0.0.1: node runtimes serving the simulator's
 * streaming packs (test/fixtures/models/sim-stream: deterministic, 16 kHz at half real time and
 * 8 kHz at a hundredth), one gateway, the official OpenAI SDK and plain HTTP clients. Audio is
 * checked by decoding it with Debian's ffmpeg.
 */
import { spawn, spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText, metricValue, startCluster, waitFor, type Cluster } from '../harness/index.ts';
import { hasCommand, systemPackage } from '../support/system-package.ts';

const FFMPEG = systemPackage('ffmpeg', () => hasCommand('ffmpeg', ['-version']), 'apt-get install ffmpeg');
const OUTPUT_RATE = 24_000;
const SIM_DIR = 'test/fixtures/models/sim-stream';

const models = [
  {
    id: 'stream-hd',
    role: 'primary',
    engine: 'sim',
    pack: 'sim-stream',
    languages: ['en'],
    voices: ['alto', 'tenor'],
    default_voice: 'alto',
    openai_voices: { alloy: 'alto', onyx: 'tenor', marin: 'alto', cedar: 'tenor' },
  },
  { id: 'stream-fast', role: 'fallback', engine: 'sim', pack: 'sim-stream-fast', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
];
const rate = { rps: 1000, burst: 1000 };
const gatewayConfig = {
  models,
  plans: {
    free: {
      policy: 'fallback_unless_idle',
      primary: 'stream-hd',
      fallback: 'stream-fast',
      max_text_chars: 300,
      long_text: 'reject',
      rate_limit: rate,
      load_share: 0.6,
      timeout_ms: 20_000,
    },
    // One model for both roles: a late health probe on a loaded machine cannot change the voice
    // between a reference and the run it is compared with.
    pro: {
      policy: 'primary_always',
      primary: 'stream-hd',
      fallback: 'stream-hd',
      max_text_chars: 3000,
      long_text: 'segment',
      parallel_segments: 2,
      rate_limit: rate,
      load_share: 1,
      timeout_ms: 30_000,
    },
    enterprise: {
      policy: 'primary_always',
      primary: 'stream-fast',
      fallback: 'stream-hd',
      max_text_chars: 20_000,
      long_text: 'segment',
      parallel_segments: 4,
      rate_limit: rate,
      load_share: 1,
      timeout_ms: 30_000,
    },
  },
  stream: { max_segment_chars: 400, max_buffered_bytes: 64 * 1024, reader_stall_ms: 1500, reader_min_speed: 0.5 },
};

/** Reads an HTTP response 1 KiB a second through a 4 KiB receive buffer; prints what happened. */
const SLOW_READER = `
import socket, sys, time, json
host, port, key, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.sendall(b"POST /v1/synthesize HTTP/1.1\\r\\nHost: gw\\r\\nContent-Type: application/json\\r\\nAuthorization: Bearer " + key.encode() + b"\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body)
got, t0, cut = 0, time.time(), False
while time.time() - t0 < 40:
    try:
        d = s.recv(1024)
    except ConnectionResetError:
        cut = True
        break
    if not d:
        cut = True
        break
    got += len(d)
    time.sleep(1)
print(json.dumps({"cut": cut, "bytes": got, "s": time.time() - t0}))
`;

let cluster: Cluster;
let client: OpenAI;

beforeAll(async () => {
  cluster = await startCluster({
    regions: [{ name: 'north', nodes: 3 }],
    node: { slots: 4, queue: 16, modelsDir: SIM_DIR, packs: ['sim-stream', 'sim-stream-fast'] },
    gateway: gatewayConfig,
  });
  client = new OpenAI({ baseURL: `${cluster.gateway.url}/v1`, apiKey: 'demo-pro', maxRetries: 0 });
  // Until the gateway has every node's first load report it may plan the fallback: wait for the primary.
  await waitFor(async () => (await synth({ text: 'Warm up.', format: 'pcm' })).headers['x-model'] === 'stream-hd', 15_000, 200);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

/** Sentences of `n` characters in all. */
function text(n: number, tag = 'a'): string {
  const sentence = `Streaming sentence ${tag} goes on for a while. `;
  return (
    sentence
      .repeat(Math.ceil(n / sentence.length))
      .slice(0, n)
      .trimEnd() + '.'
  );
}

/** Decodes any format to mono s16le at the output rate with ffmpeg; throws on a decode error. */
function decode(bytes: Buffer, format: string): Int16Array {
  const input = format === 'pcm' ? ['-f', 's16le', '-ar', String(OUTPUT_RATE), '-ac', '1'] : [];
  const r = spawnSync('ffmpeg', ['-v', 'error', ...input, '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(OUTPUT_RATE), 'pipe:1'], {
    input: bytes,
    maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0 || r.stderr.length > 0) throw new Error(`ffmpeg could not decode ${format}: ${r.stderr.toString()}`);
  return new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length >> 1);
}

async function synth(body: Record<string, unknown>, key = 'demo-pro') {
  const res = await request(`${cluster.gateway.url}/v1/synthesize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers as Record<string, string>, trailers: res.trailers as Record<string, string>, bytes };
}

describe('OpenAI SDK', () => {
  it.skipIf(!FFMPEG)('the default call gives mp3 that decodes, with the OpenAI voice mapped in config', async () => {
    const input = 'Hello from the streaming gateway. It speaks mp3 by default.';
    const res = await client.audio.speech.create({ model: 'tts-1-hd', voice: 'onyx', input });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    const pcm = decode(bytes, 'mp3');
    // ≈ 10 ms of audio per character (mp3 adds encoder delay and padding).
    expect(pcm.length / OUTPUT_RATE).toBeGreaterThan(input.length * 0.01 * 0.9);
    expect(pcm.length / OUTPUT_RATE).toBeLessThan(input.length * 0.01 * 1.2 + 0.2);
    // `onyx` → tenor here, a different voice from `alloy` → alto: not the same clip.
    const other = Buffer.from(await (await client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input })).arrayBuffer());
    expect(other.equals(bytes)).toBe(false);
  });

  it('gpt-4o-mini-tts, marin, { id } voices and instructions are accepted; ignored instructions are said', async () => {
    const res = await client.audio.speech
      .create({ model: 'gpt-4o-mini-tts', voice: 'marin', input: 'Cheerful words.', instructions: 'Speak cheerfully.', response_format: 'wav' })
      .asResponse();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-instructions')).toBe('ignored');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(44);
    const byId = await request(`${cluster.gateway.url}/v1/audio/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-pro' },
      body: JSON.stringify({ model: 'tts-1', voice: { id: 'cedar' }, input: 'By id.', response_format: 'pcm' }),
    });
    expect(byId.statusCode).toBe(200);
    await byId.body.arrayBuffer();
  });

  it('a streamed response yields audio long before synthesis ends', async () => {
    const input = text(1200);
    const t0 = performance.now();
    const res = await client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input, response_format: 'pcm' }).asResponse();
    const reader = res.body!.getReader();
    let first = 0;
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (first === 0) first = performance.now() - t0;
      bytes += value.length;
    }
    const total = performance.now() - t0;
    // 1,200 characters: 12 s of audio made at half real time on two nodes (≈ 3 s); the first
    // chunk comes after one 100 ms chunk of it.
    expect(bytes / 2 / OUTPUT_RATE).toBeGreaterThan(11);
    expect(first).toBeLessThan(total / 4);
  });

  it.skipIf(!FFMPEG)('stream_format sse: speech.audio.delta events whose audio decodes, then speech.audio.done', async () => {
    const res = await client.audio.speech.create({ model: 'tts-1-hd', voice: 'alloy', input: 'Events as they come.', stream_format: 'sse' }).asResponse();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)) as { type: string; audio?: string; usage?: { input_tokens: number } });
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(events[events.length - 1]!.type).toBe('speech.audio.done');
    const mp3 = Buffer.concat(deltas.map((d) => Buffer.from(d.audio!, 'base64')));
    expect(decode(mp3, 'mp3').length / OUTPUT_RATE).toBeGreaterThan(0.15);
  });
});

describe('segments and formats', () => {
  it('10,000 characters on enterprise arrive complete: every segment, duration ≈ their sum', async () => {
    const input = text(10_000, 'long');
    const r = await synth({ text: input, format: 'pcm', seed: 3 }, 'demo-enterprise');
    expect(r.status).toBe(200);
    const segments = Number(r.headers['x-segments']);
    expect(segments).toBeGreaterThanOrEqual(25);
    // One node per segment in the trailers, in order (none was resumed here).
    expect(r.trailers['x-node']!.split(',')).toHaveLength(segments);
    expect(r.trailers['x-resumes']).toBe('0');
    // The first byte's wait, split: the node's time to first audio, and the gateway's own.
    const timing = /^upstream;dur=([\d.]+);desc="node to first audio", gateway;dur=([\d.]+)$/.exec(String(r.headers['server-timing']));
    expect(timing).not.toBeNull();
    expect(Number(timing![1])).toBeGreaterThan(0);
    // 10 ms per character at 8 kHz, resampled to 24 kHz: ≈ 100 s.
    const seconds = r.bytes.length / 2 / OUTPUT_RATE;
    expect(seconds).toBeGreaterThan(input.length * 0.01 * 0.98);
    expect(seconds).toBeLessThan(input.length * 0.01 * 1.02);
  });

  it.skipIf(!FFMPEG)('every format decodes with ffmpeg to the same duration', async () => {
    const input = text(300, 'fmt');
    for (const format of ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm']) {
      const r = await synth({ text: input, format, seed: 5 });
      expect(r.status, format).toBe(200);
      const seconds = decode(r.bytes, format).length / OUTPUT_RATE;
      expect(seconds, format).toBeGreaterThan(input.length * 0.01 * 0.95);
      expect(seconds, format).toBeLessThan(input.length * 0.01 * 1.05 + 0.15);
    }
  });
});

describe('back-pressure and cancellation', () => {
  async function nodeInflight(): Promise<number> {
    const loads = await Promise.all(cluster.nodes.map(async (n) => JSON.parse(await getText(`${n.url}/v1/load`).catch(() => '{}')) as { inflight?: number }));
    return loads.reduce((s, l) => s + (l.inflight ?? 0), 0);
  }

  it('a reader at 1 KiB/s: the gateway holds a bounded number of bytes, then cuts it', async () => {
    const before = metricValue(await getText(`${cluster.gateway.url}/metrics`), 'voxgate_gateway_stream_reader_stalls_total');
    let maxHeld = 0;
    const poll = setInterval(() => {
      void getText(`${cluster.gateway.url}/metrics`)
        .then((m) => (maxHeld = Math.max(maxHeld, metricValue(m, 'voxgate_gateway_stream_buffered_bytes'))))
        .catch(() => undefined);
    }, 200);
    const { hostname, port } = new URL(cluster.gateway.url);
    // 150 s of audio (7 MB of PCM) read at 1 KiB/s. Python, because it can shrink its socket's
    // receive buffer: otherwise loopback TCP buffers megabytes and the gateway's own buffer
    // would take a minute to fill.
    const result = await new Promise<{ cut: boolean; bytes: number; s: number }>((resolve, reject) => {
      const py = spawn('python3', ['-c', SLOW_READER, hostname, port, 'demo-enterprise', JSON.stringify({ text: text(15_000, 'slow'), format: 'pcm' })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      py.stdout.on('data', (d: Buffer) => (out += d.toString()));
      py.on('error', reject);
      py.on('exit', () => resolve(JSON.parse(out) as { cut: boolean; bytes: number; s: number }));
    }).finally(() => clearInterval(poll));
    expect(result.cut).toBe(true);
    expect(result.bytes).toBeLessThan(64 * 1024);
    expect(maxHeld).toBeGreaterThan(0);
    // Bound (64 KiB) + one 500 ms chunk per segment in flight (4 on enterprise), at the 24 kHz the
    // nodes deliver when asked for the response rate (24 KB; 8 KB at the fast pack's own 8 kHz).
    expect(maxHeld).toBeLessThanOrEqual(64 * 1024 + 4 * 24_000);
    const after = metricValue(await getText(`${cluster.gateway.url}/metrics`), 'voxgate_gateway_stream_reader_stalls_total');
    expect(after).toBe(before + 1);
    await waitFor(async () => (await nodeInflight()) === 0, 3000);
  });

  it('a client leaving mid-stream cancels the node work of every segment', async () => {
    const controller = new AbortController();
    const res = await request(`${cluster.gateway.url}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-pro' },
      body: JSON.stringify({ text: text(2400, 'leave'), format: 'wav' }),
      signal: controller.signal,
    });
    expect(res.statusCode).toBe(200);
    // The first bytes, read without ending the iteration: `break` in a for-await would destroy the
    // body, and the client would leave before the node work is counted.
    await res.body[Symbol.asyncIterator]().next();
    expect(await nodeInflight()).toBeGreaterThan(0);
    const left = performance.now();
    controller.abort();
    // 24 s of audio at half real time would keep the nodes busy for ≈ 6 s; they stop at once.
    await waitFor(async () => (await nodeInflight()) === 0, 2000);
    expect(performance.now() - left).toBeLessThan(2000);
  });
});

describe('mid-stream failover', () => {
  it('the serving node killed mid-stream: the PCM is identical to an uninterrupted reference', async () => {
    const body = { text: text(1000, 'kill'), format: 'pcm', seed: 11 };
    const reference = await synth(body);
    expect(reference.status).toBe(200);
    const res = await request(`${cluster.gateway.url}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-pro' },
      body: JSON.stringify(body),
    });
    const victim = String(res.headers['x-node']);
    const parts: Buffer[] = [];
    let got = 0;
    let killed: Promise<void> | undefined;
    for await (const chunk of res.body) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      // A second of audio in: the first segment is mid-stream on the victim.
      if (!killed && got > OUTPUT_RATE * 2) killed = cluster.node(victim).kill();
    }
    await killed;
    const pcm = Buffer.concat(parts);
    expect(pcm.length).toBe(reference.bytes.length);
    expect(pcm.equals(reference.bytes)).toBe(true);
    expect(Number(res.trailers['x-resumes'])).toBeGreaterThanOrEqual(1);
    expect(res.trailers['x-node']!.split(',')).toContain(victim);
  });
});
