/**
 * Job quotas and retention through the API, on a real gateway and a real sim node: a tenant's
 * pending jobs and characters per UTC day are bounded (429 with Retry-After and a stable code),
 * and a finished job past its retention is gone — its record (404) and its audio file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  deepMerge,
  SIM_MODELS_DIR,
  simOverrides,
  startGateway,
  startNode,
  waitFor,
  type GatewayHandle,
  type NodeHandle,
} from '../harness/index.ts';

const RETENTION_MS = 1_500;
let node: NodeHandle;
let gw: GatewayHandle;
let dir: string;

function api(method: string, path: string, key: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const text = (chars: number) => 'Quotas count every character of a job. '.repeat(Math.ceil(chars / 39)).slice(0, chars);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxgate-jobs-limits-'));
  node = await startNode('north-1', 'north', { modelsDir: SIM_MODELS_DIR, packs: ['sim-fallback'], slots: 8, queue: 32 });
  const sim = simOverrides();
  const plans = sim['plans'] as Record<string, Record<string, unknown>>;
  const jobs = { max_chars: 100_000, max_pending: 5, chars_per_day: 1_000_000 };
  gw = await startGateway(
    deepMerge(baseConfig(), {
      ...sim,
      plans: {
        ...Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, { ...p, jobs }])),
        // The free plan: one job at a time, 3,000 characters a day.
        free: { ...plans['free'], jobs: { max_chars: 100_000, max_pending: 1, chars_per_day: 3_000 } },
      },
      regions: [{ name: 'north', priority: 0, nodes: [{ id: node.id, url: node.url, models: ['sim-hd', 'sim-fast'] }] }],
      jobs: { store_path: join(dir, 'jobs.sqlite'), audio_dir: join(dir, 'audio'), retention_ms: RETENTION_MS, poll_ms: 100 },
    }),
  );
}, 120_000);

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await node?.proc.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('job quotas and retention', () => {
  it('refuses a tenant past its pending jobs or its characters per day with 429, Retry-After and a stable code', async () => {
    // Slow enough (speed 0.25) that the first is still pending when the second arrives.
    const first = await api('POST', '/v1/jobs', 'demo-free', { text: text(2_000), speed: 0.25 });
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };

    const pending = await api('POST', '/v1/jobs', 'demo-free', { text: text(100) });
    expect(pending.status).toBe(429);
    expect(Number(pending.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await code(pending)).toBe('jobs_pending_quota');
    // Another tenant is not held back by this one's quota.
    expect((await api('POST', '/v1/jobs', 'demo-pro', { text: text(100) })).status).toBe(202);

    expect((await api('DELETE', `/v1/jobs/${id}`, 'demo-free')).status).toBe(200);
    // Nothing pending now, but a cancelled job's characters still count: 2,000 + 1,500 > 3,000.
    const daily = await api('POST', '/v1/jobs', 'demo-free', { text: text(1_500) });
    expect(daily.status).toBe(429);
    expect(await code(daily)).toBe('jobs_daily_quota');
    // Retry-After points at the next UTC midnight.
    const retryAfter = Number(daily.headers.get('retry-after'));
    const untilMidnight = (86_400_000 - (Date.now() % 86_400_000)) / 1000;
    expect(retryAfter).toBeGreaterThan(0);
    expect(Math.abs(retryAfter - untilMidnight)).toBeLessThan(60);
    // What still fits in the day is accepted.
    expect((await api('POST', '/v1/jobs', 'demo-free', { text: text(900) })).status).toBe(202);
  }, 30_000);

  it('a finished job past its retention is 404 and its audio file is gone', async () => {
    const res = await api('POST', '/v1/jobs', 'demo-pro', { text: 'Kept for a little while. Then gone.', format: 'wav' });
    const { id } = (await res.json()) as { id: string };
    await waitFor(async () => ((await (await api('GET', `/v1/jobs/${id}`, 'demo-pro')).json()) as { status: string }).status === 'succeeded', 20_000, 50);
    const view = (await (await api('GET', `/v1/jobs/${id}`, 'demo-pro')).json()) as { expires_at: string };
    expect(Date.parse(view.expires_at) - Date.now()).toBeLessThanOrEqual(RETENTION_MS);
    expect((await api('GET', `/v1/jobs/${id}/audio`, 'demo-pro')).status).toBe(200);
    const file = join(dir, 'audio', id, 'audio.wav');
    expect(existsSync(file)).toBe(true);

    await waitFor(async () => (await api('GET', `/v1/jobs/${id}`, 'demo-pro')).status === 404, 10_000, 100);
    const gone = await api('GET', `/v1/jobs/${id}/audio`, 'demo-pro');
    expect(gone.status).toBe(404);
    expect(await code(gone)).toBe('job_not_found');
    expect(existsSync(join(dir, 'audio', id))).toBe(false);
  }, 30_000);
});
