/**
 * Per-tenant token bucket (rate `rps`, capacity `burst`). Over the limit: 429 `rate_limited` at
 * once, with `Retry-After` set to when the next token arrives.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Clock } from '../../lifecycle/clock.ts';

export interface RateLimit {
  rps: number;
  burst: number;
}

/**
 * What admission asks for one token. The embedded limiter answers synchronously (no promise, no
 * extra tick on the hot path); the shared one (shared-state/shared-rate-limiter.ts) awaits Redis.
 */
export interface RateLimiter {
  take(tenant: string, limit: RateLimit): void | Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TenantRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly clock: Clock) {}

  /** Takes one token for `tenant` or throws 429. */
  take(tenant: string, limit: RateLimit): void {
    const now = this.clock.now();
    let b = this.buckets.get(tenant);
    if (!b) {
      b = { tokens: limit.burst, at: now };
      this.buckets.set(tenant, b);
    }
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.rps);
    b.at = now;
    if (b.tokens < 1) {
      const waitMs = ((1 - b.tokens) / limit.rps) * 1000;
      throw new GatewayError('VOX_ERR_RATE_LIMITED', `tenant ${tenant} is over ${limit.rps} requests/s`, { retryAfterMs: waitMs });
    }
    b.tokens -= 1;
  }
}
