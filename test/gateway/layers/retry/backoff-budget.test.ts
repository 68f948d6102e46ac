import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterBackoff } from '../../../../gateway/src/layers/retry/backoff.ts';
import { RetryBudget, type RetryBudgetOptions } from '../../../../gateway/src/layers/retry/retry-budget.ts';
import { retryDecision } from '../../../../gateway/src/layers/retry/retry-policy.ts';
import { GatewayError } from '../../../../gateway/src/errors/gateway-error.ts';

describe('full-jitter backoff', () => {
  it('stays within [0, min(max, base·2^(n-1)))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
        const d = fullJitterBackoff(n, { baseMs: 25, maxMs: 250, random: () => r });
        return d >= 0 && d < Math.min(250, 25 * 2 ** (n - 1)) + 1e-9;
      }),
    );
    expect(fullJitterBackoff(3, { baseMs: 25, maxMs: 250, random: () => 0 })).toBe(0);
  });
  it('rejects base > max', () => {
    expect(() => fullJitterBackoff(1, { baseMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('retry budget', () => {
  function budget(over: Partial<RetryBudgetOptions> = {}) {
    let now = 0;
    const b = new RetryBudget({
      budgetPercent: () => 20,
      minRetryConcurrency: () => 3,
      minRetriesPerSecond: () => 0,
      activeRequests: () => 1,
      maxConcurrency: () => 100,
      room: () => 0,
      now: () => now,
      ...over,
    });
    return { b, advance: (ms: number) => (now += ms) };
  }

  it('concurrency: min_retry_concurrency retries at low load, 20% of active requests at high load (Envoy)', () => {
    let active = 5;
    const { b } = budget({ activeRequests: () => active });
    const held = [b.tryAcquire('m'), b.tryAcquire('m'), b.tryAcquire('m')];
    expect(held.every(Boolean)).toBe(true);
    expect(b.tryAcquire('m')).toBeUndefined();
    held[0]!();
    held[0]!(); // idempotent
    expect(b.activeRetries()).toBe(2);
    active = 50;
    expect(b.limit()).toBe(10);
    const more = Array.from({ length: 10 }, () => b.tryAcquire('m'));
    expect(more.filter(Boolean).length).toBe(8);
  });

  it('concurrency: a retry beyond the share may take room its model has, never a saturated pool', () => {
    let room = 0;
    const { b } = budget({ activeRequests: () => 10, room: (model) => (model === 'm' ? room : 0) });
    const held = [b.tryAcquire('m'), b.tryAcquire('m'), b.tryAcquire('m')];
    expect(held.every(Boolean)).toBe(true);
    expect(b.tryAcquire('m')).toBeUndefined(); // no room: the Envoy limit holds
    room = 2;
    expect(b.tryAcquire('m')).toBeDefined();
    expect(b.tryAcquire('other')).toBeUndefined();
    expect(b.activeRetries()).toBe(4);
  });

  it('ratio: with every retry failing fast, retries stay ≤ 20% of requests plus the reserve (Finagle deposit)', () => {
    const { b } = budget({ maxConcurrency: () => 30, room: () => 100 });
    let retries = 0;
    const requests = 1000;
    for (let i = 0; i < requests; i++) {
      b.deposit();
      // each request tries to retry up to 3 times, back to back
      for (let k = 0; k < 3; k++) {
        const release = b.tryAcquire('m');
        if (!release) break;
        retries++;
        release();
      }
    }
    expect(retries).toBeLessThanOrEqual(requests * 0.2 + 6);
    expect(retries).toBeGreaterThanOrEqual(requests * 0.2 - 1);
  });

  it('time: min_retries_per_second lets a quiet service retry, and no faster (linkerd)', () => {
    const { b, advance } = budget({ minRetriesPerSecond: () => 10, maxConcurrency: () => 0, room: () => 100 });
    const drain = () => {
      let n = 0;
      for (let release = b.tryAcquire('m'); release; release = b.tryAcquire('m')) {
        n++;
        release();
      }
      return n;
    };
    expect(drain()).toBe(10); // the reserve: max(3, 10 per second)
    advance(500);
    expect(drain()).toBe(5);
    advance(60_000);
    expect(drain()).toBe(10); // capped, not 600
  });
});

describe('retry policy', () => {
  it('retries only failures that did not start a response', () => {
    expect(retryDecision(new GatewayError('VOX_ERR_UPSTREAM_CONNECT'))).toBe('reselect');
    expect(retryDecision(new GatewayError('VOX_ERR_BREAKER_OPEN'))).toBe('reselect');
    expect(retryDecision(new GatewayError('VOX_ERR_UPSTREAM_BUSY'))).toBe('reselect'); // a full node did no work
    for (const c of ['VOX_ERR_UPSTREAM_RESET', 'VOX_ERR_UPSTREAM_FAILURE', 'VOX_ERR_ATTEMPT_TIMEOUT'] as const)
      expect(retryDecision(new GatewayError(c))).toBe('retry');
    for (const c of ['VOX_ERR_UPSTREAM_REJECTED', 'VOX_ERR_DEADLINE_EXCEEDED', 'VOX_ERR_CLIENT_CLOSED'] as const)
      expect(retryDecision(new GatewayError(c))).toBe('no');
    // No node of the model has room: not another node (the layer stops), the plan's other model.
    expect(retryDecision(new GatewayError('VOX_ERR_BUSY'))).toBe('other_model');
  });
});
