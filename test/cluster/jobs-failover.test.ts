/**
 * A job outlives the replica that accepted it: two real gateways share a real Redis (Debian's
 * redis-server on a free port) and one audio directory, in front of real sim nodes. Gateway A
 * accepts and runs a job and is killed (SIGKILL) mid-job; once A's lease lapses, B's runner
 * requeues the job, synthesises only the segments the store does not have, and serves the
 * complete audio.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { hasRedis, startRedis, type RedisProcess } from '../support/redis-server.ts';

interface JobView {
  status: string;
  progress: { segments_done: number; segments_total: number };
}

function sentenceText(chars: number): string {
  const sentence = 'The quick brown fox jumps over the lazy dog near the quiet river bank. ';
  return sentence
    .repeat(Math.ceil(chars / sentence.length))
    .slice(0, chars)
    .trim();
}

describe.skipIf(!hasRedis())('jobs on shared state', () => {
  let redis: RedisProcess;
  let nodes: NodeHandle[] = [];
  let a: GatewayHandle | undefined;
  let b: GatewayHandle | undefined;
  let dir: string;
  let config: Record<string, unknown>;

  const call = (gw: GatewayHandle, path: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, { ...init, headers: { authorization: 'Bearer demo-pro', 'content-type': 'application/json' } });
  const view = async (gw: GatewayHandle, id: string) => (await (await call(gw, `/v1/jobs/${id}`)).json()) as JobView;

  /** Syntheses the nodes completed, once no request is in flight and the count is stable. */
  async function settledNodeRequests(): Promise<number> {
    const count = async () => {
      let n = 0;
      for (const node of nodes) n += metricValue(await getText(`${node.directUrl}/metrics`), 'voxgate_node_requests_total', { code: 'ok' });
      return n;
    };
    let last = await count();
    for (let stable = 0; stable < 6;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await count();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
    return last;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'voxgate-jobs-shared-'));
    redis = await startRedis();
    nodes = await Promise.all(
      ['north-1', 'north-2'].map((id) => startNode(id, 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'], slots: 8, queue: 32 })),
    );
    const sim = simOverrides();
    const plans = sim['plans'] as Record<string, Record<string, unknown>>;
    config = deepMerge(baseConfig(), {
      ...sim,
      plans: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, { ...p, jobs: { max_chars: 100_000, max_pending: 5, chars_per_day: 1_000_000 } }])),
      regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
      shared_state: { redis_url: redis.url, command_timeout_ms: 5_000 },
      jobs: {
        // Unused with shared state (the store is Redis); a path of its own proves nothing reads it.
        store_path: join(dir, 'unused.sqlite'),
        audio_dir: join(dir, 'shared-audio'),
        concurrency: 1,
        parallel_segments: 2,
        // Short, so B takes over in seconds; not so short that a loaded machine delays a renewal past it.
        lease_ms: 3_000,
        poll_ms: 100,
      },
    });
    a = await startGateway(config);
  }, 120_000);

  afterAll(async () => {
    await b?.proc.stop(2_000);
    await a?.proc.kill();
    await Promise.all(nodes.map((n) => n.proc.kill()));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a job accepted by gateway A completes on gateway B after A is killed (SIGKILL)', async () => {
    const text = sentenceText(9_000);
    const res = await call(a!, '/v1/jobs', { method: 'POST', body: JSON.stringify({ text, format: 'pcm', speed: 2, seed: 5 }) });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // A runs it (B is not up yet, so nobody else can claim it); B joins while A is mid-job.
    await waitFor(async () => (await view(a!, id)).progress.segments_done >= 3, 60_000, 50);
    b = await startGateway(config);
    // B sees the job A accepted, through Redis, while A still runs it.
    const seen = await view(b, id);
    expect(seen.status).toBe('running');
    await waitFor(async () => (await view(b!, id)).progress.segments_done >= 6, 60_000, 50);

    a!.proc.signal('SIGKILL');
    await a!.proc.exited;
    const atKill = await view(b, id);
    expect(atKill.status).toBe('running');
    expect(atKill.progress.segments_done).toBeLessThan(atKill.progress.segments_total);
    const requestsAtKill = await settledNodeRequests();
    // Segments cut by the kill may have been saved after the first read: take progress again.
    const saved = (await view(b, id)).progress.segments_done;

    await waitFor(async () => (await view(b!, id)).status === 'succeeded', 90_000, 100);
    const done = await view(b, id);
    expect(done.progress.segments_done).toBe(done.progress.segments_total);
    // B synthesised only what the store lacked: the rest of the segments, plus a few retries of
    // busy nodes at most; re-doing A's saved segments would exceed the bound.
    const bRequests = (await settledNodeRequests()) - requestsAtKill;
    const remaining = done.progress.segments_total - saved;
    expect(saved).toBeGreaterThanOrEqual(6);
    expect(bRequests).toBeGreaterThanOrEqual(remaining);
    expect(bRequests).toBeLessThanOrEqual(Math.min(remaining + 4, done.progress.segments_total - 1));
    expect(metricValue(await getText(`${b.url}/metrics`), 'voxgate_jobs_segments_total', { outcome: 'ok' })).toBe(remaining);

    // The audio B wrote on the shared directory is complete (20 ms per character at speed 1).
    const audio = await call(b, `/v1/jobs/${id}/audio`);
    expect(audio.status).toBe(200);
    const pcm = Buffer.from(await audio.arrayBuffer());
    const seconds = pcm.length / 2 / 24_000;
    const spoken = text.replace(/\s+/g, ' ').length;
    expect(seconds).toBeGreaterThan(((spoken * 0.02) / 2) * 0.9);
    expect(seconds).toBeLessThan(((spoken * 0.02) / 2) * 1.1);
    expect(readdirSync(join(dir, 'shared-audio', id))).toEqual(['audio.pcm']);
    expect(readdirSync(dir)).not.toContain('unused.sqlite');
  }, 240_000);
});
