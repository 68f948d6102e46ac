/**
 * Async jobs end to end: real gateway and sim nodes over HTTP, a real callback receiver.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  deepMerge,
  getText,
  metricValue,
  SIM_MODELS_DIR,
  simOverrides,
  startGateway,
  startNode,
  waitFor,
  type GatewayHandle,
  type NodeHandle,
} from '../harness/index.ts';

const SECRET = `whsec_${Buffer.from('voxgate-jobs-test-secret-0123456').toString('base64')}`;
const webhook = new Webhook(SECRET);

interface Hook {
  id: string;
  verified: boolean;
  body: { type: string; data: { id: string; status: string } };
}

/** A receiver at http://localhost:port; `failFirst` answers 500 that many times first. */
class Receiver {
  readonly hooks: Hook[] = [];
  readonly attempts: string[] = [];
  failFirst = 0;
  server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const id = String(req.headers['webhook-id']);
        this.attempts.push(id);
        if (req.url === '/redirect') {
          res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
          return;
        }
        if (this.failFirst > 0) {
          this.failFirst--;
          res.writeHead(500).end();
          return;
        }
        let verified = false;
        try {
          webhook.verify(raw, req.headers as Record<string, string>);
          verified = true;
        } catch {
          verified = false;
        }
        this.hooks.push({ id, verified, body: JSON.parse(raw) as Hook['body'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.url = `http://localhost:${addr.port}`;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

let nodes: NodeHandle[] = [];
let gw: GatewayHandle;
let config: Record<string, unknown>;
let dir: string;
const receiver = new Receiver();

async function api(method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

interface JobView {
  id: string;
  status: string;
  progress: { segments_done: number; segments_total: number; chars_done: number; chars_total: number };
  callback?: { state: string; attempts: number };
  models: string[];
}

async function job(id: string, key = 'demo-pro'): Promise<JobView> {
  return (await (await api('GET', `/v1/jobs/${id}`, key)).json()) as JobView;
}

/** Syntheses the nodes completed (refusals such as queue_full are not synthesis). */
async function nodeRequests(): Promise<number> {
  let n = 0;
  for (const node of nodes) n += metricValue(await getText(`${node.directUrl}/metrics`), 'voxgate_node_requests_total', { code: 'ok' });
  return n;
}

function sentenceText(chars: number): string {
  const sentence = 'The quick brown fox jumps over the lazy dog near the quiet river bank. ';
  return sentence
    .repeat(Math.ceil(chars / sentence.length))
    .slice(0, chars)
    .trim();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxgate-jobs-'));
  await receiver.start();
  nodes = await Promise.all(
    ['north-1', 'north-2'].map((id) => startNode(id, 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'], slots: 8, queue: 32 })),
  );
  const sim = simOverrides();
  const plans = sim['plans'] as Record<string, Record<string, unknown>>;
  config = deepMerge(baseConfig(), {
    ...sim,
    plans: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, { ...p, jobs: { max_chars: 100_000, max_pending: 5, chars_per_day: 1_000_000 } }])),
    regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
    stream: { max_segment_chars: 600 },
    jobs: {
      store_path: join(dir, 'jobs.sqlite'),
      audio_dir: join(dir, 'audio'),
      concurrency: 2,
      parallel_segments: 12,
      lease_ms: 3000,
      poll_ms: 100,
      callbacks: { allow_schemes: ['http', 'https'], allow_hosts: ['localhost'], base_ms: 50, max_ms: 200, max_attempts: 6, timeout_ms: 2000 },
    },
  });
  gw = await startGateway(config, { env: { VOXGATE_WEBHOOK_SECRET: SECRET } });
}, 120_000);

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await Promise.all(nodes.map((n) => n.proc.kill()));
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('async jobs', () => {
  it('a 50,000-character job completes with complete audio and one verified callback', async () => {
    const text = sentenceText(50_000);
    const res = await api('POST', '/v1/jobs', 'demo-pro', {
      text,
      format: 'wav',
      speed: 4,
      seed: 7,
      callback_url: `${receiver.url}/hook`,
      metadata: { order: 42 },
    });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { id: string; status: string; status_url: string };
    expect(created).toMatchObject({ status: 'queued', status_url: `/v1/jobs/${created.id}` });

    await waitFor(async () => (await job(created.id)).status === 'succeeded', 90_000, 250);
    const view = await job(created.id);
    expect(view.progress.segments_done).toBe(view.progress.segments_total);
    expect(view.progress.segments_total).toBeGreaterThan(80);
    expect(view.progress.chars_done).toBe(view.progress.chars_total);

    const audio = await api('GET', `/v1/jobs/${created.id}/audio`, 'demo-pro');
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await audio.arrayBuffer());
    const rate = wav.readUInt32LE(24);
    const seconds = wav.readUInt32LE(40) / 2 / rate;
    // The sim speaks 20 ms per character at speed 1: the sum of the segments' audio, at speed 4.
    const spoken = text.replace(/\s+/g, ' ').length;
    expect(seconds).toBeGreaterThan(((spoken * 0.02) / 4) * 0.9);
    expect(seconds).toBeLessThan(((spoken * 0.02) / 4) * 1.1);

    const ranged = await api('GET', `/v1/jobs/${created.id}/audio`, 'demo-pro', undefined, { range: 'bytes=0-43' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 0-43/${wav.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(wav.subarray(0, 44))).toBe(true);

    await waitFor(() => receiver.hooks.some((h) => h.body.data.id === created.id), 10_000);
    const hooks = receiver.hooks.filter((h) => h.body.data.id === created.id);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ verified: true, body: { type: 'job.succeeded', data: { status: 'succeeded' } } });
    expect((await job(created.id)).callback).toMatchObject({ state: 'delivered', attempts: 1 });

    // Another tenant: 404 to read, to fetch audio and to cancel, never 403.
    for (const [method, path] of [
      ['GET', `/v1/jobs/${created.id}`],
      ['GET', `/v1/jobs/${created.id}/audio`],
      ['DELETE', `/v1/jobs/${created.id}`],
    ] as const) {
      const other = await api(method, path, 'demo-enterprise');
      expect(other.status).toBe(404);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe('job_not_found');
    }
  }, 120_000);

  it('a receiver that fails 3 times then succeeds gets the same webhook-id every time', async () => {
    receiver.failFirst = 3;
    const before = receiver.attempts.length;
    const res = await api('POST', '/v1/jobs', 'demo-pro', { text: 'A short job. Two sentences.', format: 'mp3', callback_url: `${receiver.url}/hook` });
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => (await job(id)).callback?.state === 'delivered', 20_000, 100);
    const ids = receiver.attempts.slice(before);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(1);
    expect((await job(id)).callback).toMatchObject({ state: 'delivered', attempts: 4 });
  }, 30_000);

  it('refuses SSRF callback URLs at submission with 400 callback_refused, without a connection', async () => {
    const loopbackNames: string[] = [];
    for (const name of ['vm', 'runsc', 'localhost.']) {
      try {
        if ((await lookup(name)).address.startsWith('127.')) loopbackNames.push(name);
      } catch {
        /* not resolvable here */
      }
    }
    const port = new URL(receiver.url).port;
    const before = receiver.attempts.length;
    const urls = [
      'http://127.0.0.1:' + port + '/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/x',
      'ftp://example.com/x',
      ...loopbackNames.slice(0, 1).map((n) => `http://${n}:${port}/hook`),
    ];
    for (const url of urls) {
      const res = await api('POST', '/v1/jobs', 'demo-pro', { text: 'Hello.', callback_url: url });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('callback_refused');
    }
    expect(receiver.attempts.length).toBe(before);

    // A redirect is never followed: the delivery counts it as a failure.
    const res = await api('POST', '/v1/jobs', 'demo-pro', { text: 'Redirect me.', callback_url: `${receiver.url}/redirect` });
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => ((await job(id)).callback?.attempts ?? 0) >= 1, 20_000, 100);
    expect((await job(id)).callback).toMatchObject({ state: expect.stringMatching(/pending|dead_lettered/) });
    expect(((await job(id)).callback as unknown as { last_error: string }).last_error).toBe('redirect not followed');
  }, 30_000);

  it('another tenant cannot cancel; the owner can', async () => {
    const res = await api('POST', '/v1/jobs', 'demo-pro', { text: sentenceText(20_000), speed: 1 });
    const { id } = (await res.json()) as { id: string };
    expect((await api('DELETE', `/v1/jobs/${id}`, 'demo-free')).status).toBe(404);
    const cancelled = await api('DELETE', `/v1/jobs/${id}`, 'demo-pro');
    expect(cancelled.status).toBe(200);
    expect((await job(id)).status).toBe('cancelled');
    expect((await api('GET', `/v1/jobs/${id}/audio`, 'demo-pro')).status).toBe(422);
  });

  it('gateway SIGKILL mid-job: after a restart the job completes without re-synthesising finished segments', async () => {
    const text = sentenceText(12_000);
    const res = await api('POST', '/v1/jobs', 'demo-pro', { text, format: 'pcm', speed: 2, seed: 3 });
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      async () => {
        const v = await job(id);
        return v.progress.segments_done >= 10;
      },
      60_000,
      50,
    );
    gw.proc.signal('SIGKILL');
    await gw.proc.exited;
    // Node requests cut by the kill finish (and are counted) before the baseline is taken.
    await waitFor(
      async () => {
        for (const n of nodes) {
          const l = (await (await fetch(`${n.directUrl}/v1/load`)).json()) as { inflight: number; batch_inflight: number; batch_queue_depth: number };
          if (l.inflight + l.batch_inflight + l.batch_queue_depth > 0) return false;
        }
        return true;
      },
      20_000,
      50,
    );
    // A node counts a streamed request when its stream closes: take the baseline once it is stable.
    let requestsAtKill = await nodeRequests();
    for (let stable = 0; stable < 10;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await nodeRequests();
      stable = now === requestsAtKill ? stable + 1 : 0;
      requestsAtKill = now;
    }
    gw = await startGateway(config, { env: { VOXGATE_WEBHOOK_SECRET: SECRET } });
    const atRestart = await job(id);
    await waitFor(async () => (await job(id)).status === 'succeeded', 90_000, 250);
    const done = await job(id);
    // Only segments the store did not have were asked for again (a few in flight at the kill, retries aside).
    const after = (await nodeRequests()) - requestsAtKill;
    expect(atRestart.progress.segments_done).toBeGreaterThanOrEqual(10);
    expect(atRestart.progress.segments_done).toBeLessThan(atRestart.progress.segments_total);
    // Retries of busy nodes count as node requests too, so a loaded machine adds a few; re-doing
    // the finished segments (at least 10) would still exceed the bound.
    const remaining = done.progress.segments_total - atRestart.progress.segments_done;
    expect(after).toBeLessThanOrEqual(Math.min(remaining + 8, done.progress.segments_total - 1));
    const pcm = Buffer.from(await (await api('GET', `/v1/jobs/${id}/audio`, 'demo-pro')).arrayBuffer());
    const seconds = pcm.length / 2 / 24_000;
    const spoken = text.replace(/\s+/g, ' ').length;
    expect(seconds).toBeGreaterThan(((spoken * 0.02) / 2) * 0.9);
    expect(seconds).toBeLessThan(((spoken * 0.02) / 2) * 1.1);
  }, 150_000);
});
