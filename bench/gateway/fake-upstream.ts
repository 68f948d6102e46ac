/**
 * A fake node runtime for the gateway benchmarks: node:http, the node-runtime API the gateway
 * relies on (docs/node-runtime-api.md: `POST /v1/synthesize`, `GET /readyz`, `GET /v1/load`,
 * `GET /healthz`), and nothing else. A streaming request (`"stream": true`, what the gateway
 * sends) gets the framed stream of protocol/frames.ts at the `sample_rate` it asked for, as a
 * current node answers, with `size − 44` bytes of PCM; any other request gets a preallocated WAV
 * of `size` bytes (the direct and raw-proxy baselines). Either comes after
 * `delayMs ± jitterMs` (uniform and stratified: see `nextJitter`), fails `failRate` of requests
 * with a retryable 503 `engine_failure`, and can send the body in `chunks` pieces `chunkGapMs`
 * apart (streaming TTS).
 *
 * It costs a few µs per request, so what a benchmark measures is the proxy in front of it, not
 * the upstream (the simulator engine would measure flite-like scheduling instead).
 *
 * Knobs change at run time through `POST /__bench/config` (JSON, partial); `GET /__bench/stats`
 * returns open sockets, responses in progress and totals, which the abort scenario uses to prove
 * that no upstream socket leaks. `--ports N` opens N listeners in one process (the scale
 * benchmark's 1,000 simulated nodes).
 *
 *   node --import tsx bench/gateway/fake-upstream.ts --port 0 [--ports 1] [--slots 256]
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { audioFrame, endFrame, FRAMES_CONTENT_TYPE, StreamChecksum } from '../../protocol/frames.ts';

export interface UpstreamKnobs {
  size: number;
  delayMs: number;
  jitterMs: number;
  failRate: number;
  chunks: number;
  chunkGapMs: number;
  slots: number;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    ports: { type: 'string', default: '1' },
    slots: { type: 'string', default: '256' },
    'node-id': { type: 'string', default: 'fake' },
  },
});

const knobs: UpstreamKnobs = { size: 65_536, delayMs: 0, jitterMs: 0, failRate: 0, chunks: 1, chunkGapMs: 0, slots: Number(values.slots) };
const nodeId = values['node-id']!;
const SAMPLE_RATE = 16_000;

/** A valid PCM16 mono WAV of exactly `size` bytes: a quiet tone, so a canary judge can decode it. */
function makeWav(size: number): Buffer {
  const buf = Buffer.alloc(Math.max(44, size));
  const data = buf.length - 44;
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(SAMPLE_RATE, 24);
  buf.writeUInt32LE(SAMPLE_RATE * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i + 1 < data; i += 2) buf.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 220 * (i / 2)) / SAMPLE_RATE)), 44 + i);
  return buf;
}

/** The framed answer of `size − 44` PCM bytes at `rate`, in `chunks` audio frames, then its end frame. */
function makeFrames(size: number, rate: number, chunks: number): Buffer[] {
  const samples = Math.max(0, Math.floor((size - 44) / 2));
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / rate));
  const step = Math.max(1, Math.ceil(samples / Math.max(1, chunks)));
  const sum = new StreamChecksum();
  const frames: Buffer[] = [];
  for (let at = 0; at < samples; at += step) {
    const frame = audioFrame(pcm.subarray(at, at + step));
    sum.add(frame.subarray(5));
    frames.push(frame);
  }
  frames.push(endFrame({ samples: sum.samples, crc32: sum.crc, sample_rate: rate }));
  return frames;
}

const framed = new Map<string, Buffer[]>();
function frames(size: number, rate: number, chunks: number): Buffer[] {
  const key = `${size}/${rate}/${chunks}`;
  let f = framed.get(key);
  if (!f) {
    f = makeFrames(size, rate, chunks);
    framed.set(key, f);
  }
  return f;
}

const wavs = new Map<number, Buffer>();
function wav(size: number): Buffer {
  let b = wavs.get(size);
  if (!b) {
    b = makeWav(size);
    wavs.set(size, b);
  }
  return b;
}

const PACKS = ['hd', 'fast', 'canary'].map((name) => ({
  name,
  version: '1.0.0',
  engine: 'fake',
  languages: ['en'],
  voices: ['alto', 'tenor'],
  execution_provider: 'none',
  sample_rate: SAMPLE_RATE,
}));

/**
 * The jitter of the n-th request: the golden-ratio sequence frac(n·φ) fills [0, 1) evenly (any
 * run of N draws is within O(log N / N) of uniform), so every target in a scenario sees the same
 * delay distribution. With Math.random the medians of two 3,000-request samples of 50 ± 30 ms
 * differ by ~0.75 ms from sampling alone, more than the overhead the paced scenario measures.
 */
const GOLDEN = 0.6180339887498949;
let jitterSeq = 0;
function nextJitter(): number {
  jitterSeq = (jitterSeq + GOLDEN) % 1;
  return 2 * jitterSeq - 1;
}

const stats = { connections: 0, active: 0, requests: 0, completed: 0, aborted: 0, failed: 0 };
const ENGINE_FAILURE = JSON.stringify({ error: { code: 'engine_failure', message: 'simulated failure', trace_id: '-', retryable: true } });

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendAudio(res: ServerResponse): void {
  const body = wav(knobs.size);
  res.writeHead(200, {
    'content-type': 'audio/wav',
    'content-length': body.length,
    'x-node': nodeId,
    'x-model': 'fake',
    'x-model-version': '1.0.0',
    'x-engine': 'fake',
    'x-sample-rate': String(SAMPLE_RATE),
    'x-audio-ms': String(Math.round(((body.length - 44) / 2 / SAMPLE_RATE) * 1000)),
    'x-queue-ms': '0',
    'x-compute-ms': String(knobs.delayMs),
  });
  if (knobs.chunks <= 1) {
    res.end(body);
    return;
  }
  const step = Math.ceil(body.length / knobs.chunks);
  let off = 0;
  const next = () => {
    if (res.destroyed) return;
    const end = Math.min(body.length, off + step);
    const piece = body.subarray(off, end);
    off = end;
    if (off >= body.length) res.end(piece);
    else {
      res.write(piece);
      setTimeout(next, knobs.chunkGapMs);
    }
  };
  next();
}

function sendFrames(res: ServerResponse, rate: number): void {
  const parts = frames(knobs.size, rate, knobs.chunks);
  res.writeHead(200, {
    'content-type': FRAMES_CONTENT_TYPE,
    'x-node': nodeId,
    'x-model': 'fake',
    'x-model-version': '1.0.0',
    'x-engine': 'fake',
    'x-sample-rate': String(rate),
    'x-deterministic': 'true',
    'x-queue-ms': '0',
  });
  if (knobs.chunks <= 1) {
    res.end(Buffer.concat(parts));
    return;
  }
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    const last = i >= parts.length - 2;
    if (last) return void res.end(Buffer.concat(parts.slice(i)));
    res.write(parts[i++]);
    setTimeout(next, knobs.chunkGapMs);
  };
  next();
}

/** What the request asked for: a framed stream (and at which rate), or a whole WAV. */
function wants(body: Buffer): { stream: boolean; rate: number } {
  // A cheap look before a parse: the baselines' bodies never ask for a stream.
  if (!body.includes('"stream":true')) return { stream: false, rate: SAMPLE_RATE };
  try {
    const b = JSON.parse(body.toString('utf8')) as { sample_rate?: number };
    return { stream: true, rate: typeof b.sample_rate === 'number' ? b.sample_rate : SAMPLE_RATE };
  } catch {
    return { stream: false, rate: SAMPLE_RATE };
  }
}

function synthesize(req: IncomingMessage, res: ServerResponse): void {
  stats.requests++;
  stats.active++;
  let done = false;
  const settle = (aborted: boolean) => {
    if (done) return;
    done = true;
    stats.active--;
    if (aborted) stats.aborted++;
    else stats.completed++;
  };
  res.once('finish', () => settle(false));
  res.once('close', () => settle(!res.writableFinished));
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.once('end', () => {
    const want = wants(Buffer.concat(body));
    const wait = knobs.delayMs + (knobs.jitterMs > 0 ? nextJitter() * knobs.jitterMs : 0);
    const answer = () => {
      if (res.destroyed) return;
      if (knobs.failRate > 0 && Math.random() < knobs.failRate) {
        stats.failed++;
        res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ENGINE_FAILURE), 'retry-after': '1' });
        res.end(ENGINE_FAILURE);
        return;
      }
      if (want.stream) sendFrames(res, want.rate);
      else sendAudio(res);
    };
    if (wait >= 1) setTimeout(answer, wait);
    else answer();
  });
}

function control(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const patch = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Partial<UpstreamKnobs>;
      for (const [k, v] of Object.entries(patch))
        if (k in knobs && typeof v === 'number' && Number.isFinite(v)) (knobs as unknown as Record<string, number>)[k] = v;
      if (patch.size !== undefined) wav(knobs.size);
      json(res, 200, knobs);
    } catch (err) {
      json(res, 400, { error: String(err) });
    }
  });
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/v1/synthesize') return synthesize(req, res);
  if (url === '/readyz' || url === '/healthz') return json(res, 200, { ready: true, status: 'ok' });
  if (url === '/v1/load')
    return json(res, 200, {
      node_id: nodeId,
      region: 'bench',
      ready: true,
      draining: false,
      slots: knobs.slots,
      inflight: stats.active,
      queue_depth: 0,
      queue_limit: 1024,
      latency_ewma_ms: knobs.delayMs,
      queue_wait_ewma_ms: 0,
      rtf_ewma: 0,
      // The packs the benchmark config names (bench/gateway/config.ts): the gateway routes only to
      // nodes that report the pack loaded.
      models: PACKS,
      // As a current node: it answers streams at any rate the gateway asks for.
      output_sample_rates: { min: 8000, max: 48000 },
      memory: { rss: 0, heap_used: 0, heap_total: 0, external: 0, array_buffers: 0 },
    });
  if (req.method === 'POST' && url === '/__bench/config') return control(req, res);
  if (url === '/__bench/stats') return json(res, 200, { ...stats, knobs });
  json(res, 404, { error: { code: 'not_found', message: url, trace_id: '-', retryable: false } });
}

const servers: Server[] = [];
const count = Math.max(1, Number(values.ports));
const urls: string[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer({ keepAliveTimeout: 30_000 }, handler);
  server.on('connection', (sock) => {
    stats.connections++;
    sock.once('close', () => stats.connections--);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(i === 0 ? Number(values.port) : 0, '127.0.0.1', resolve));
  const addr = server.address();
  urls.push(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`);
}
wav(knobs.size);
process.stdout.write(`${JSON.stringify({ msg: 'listening', url: urls[0], urls, pid: process.pid })}\n`);

const stop = () => {
  for (const s of servers) s.close();
  for (const s of servers) s.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
