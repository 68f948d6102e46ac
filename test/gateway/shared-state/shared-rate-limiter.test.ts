import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { SharedState } from '../../../gateway/src/shared-state/redis-connection.ts';
import { SharedRateLimiter } from '../../../gateway/src/shared-state/shared-rate-limiter.ts';
import { hasRedis, startRedis, type RedisProcess } from '../../support/redis-server.ts';

const log = createLogger({ level: 'silent' });
const LIMIT = { rps: 1, burst: 20 };

async function outcomes(limiter: SharedRateLimiter, n: number, tenant = 't'): Promise<{ ok: number; limited: number; other: number }> {
  const r = { ok: 0, limited: 0, other: 0 };
  for (let i = 0; i < n; i++) {
    try {
      await limiter.take(tenant, LIMIT);
      r.ok++;
    } catch (err) {
      if ((err as { code?: string }).code === 'VOX_ERR_RATE_LIMITED') r.limited++;
      else r.other++;
    }
  }
  return r;
}

describe.skipIf(!hasRedis())('shared rate limit on Redis', () => {
  let redis: RedisProcess | undefined;
  const states: SharedState[] = [];
  afterEach(async () => {
    for (const s of states.splice(0)) await s.close();
    await redis?.stop();
  });

  async function replica(url: string): Promise<SharedRateLimiter> {
    // A generous command timeout: on a busy test machine 50 ms can pass, and a timeout falls back (not what these tests count).
    const state = new SharedState({ url, log, heartbeatMs: 100, commandTimeoutMs: 1_000 });
    states.push(state);
    expect(await state.ready()).toBe(true);
    return new SharedRateLimiter(state, systemClock);
  }

  it('holds one tenant limit across two replicas', async () => {
    redis = await startRedis();
    const a = await replica(redis.url);
    const b = await replica(redis.url);
    const [ra, rb] = await Promise.all([outcomes(a, 30), outcomes(b, 30)]);
    // A burst of 20 (plus at most a token refilled during the run) across both replicas, not 40.
    expect(ra.ok + rb.ok).toBeGreaterThanOrEqual(20);
    expect(ra.ok + rb.ok).toBeLessThanOrEqual(22);
    expect(ra.other + rb.other).toBe(0);
    expect(a.counters.fallback + b.counters.fallback).toBe(0);
  });

  it('falls back to each replica’s share when Redis dies, and resumes when it returns', async () => {
    redis = await startRedis();
    const a = await replica(redis.url);
    const b = await replica(redis.url);
    await new Promise((r) => setTimeout(r, 300)); // both heartbeats seen: 2 replicas
    await redis.stop();
    const started = performance.now();
    const [ra, rb] = await Promise.all([outcomes(a, 20, 'u'), outcomes(b, 20, 'u')]);
    expect(performance.now() - started).toBeLessThan(2_000); // never a hang
    expect(ra.other + rb.other).toBe(0); // never anything but ok or 429
    // Each replica allows its share: burst 20 / 2 replicas = 10 each.
    expect(ra.ok).toBeGreaterThanOrEqual(10);
    expect(ra.ok).toBeLessThanOrEqual(11);
    expect(rb.ok).toBeLessThanOrEqual(11);
    expect(a.counters.fallback).toBe(20);

    await redis.restart();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(states[0]!.up && states[1]!.up)) await new Promise((r) => setTimeout(r, 50));
    expect(states[0]!.up).toBe(true);
    const before = a.counters.shared;
    await outcomes(a, 3, 'v');
    expect(a.counters.shared - before).toBe(3);
  });
});
