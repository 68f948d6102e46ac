/**
 * Tenant rate limits enforced across every gateway replica: one token bucket per tenant in Redis,
 * updated by an atomic script (one round trip per request, Redis's own clock, so replicas with
 * skewed clocks agree).
 *
 * When Redis is slow or down the request is never failed for it and never waits longer than the
 * command timeout: the replica falls back to a local bucket holding its share of the limit
 * (rate and burst divided by the live replicas it last saw), counts the fallback, and returns to
 * the shared bucket as soon as Redis answers again.
 * @module
 */
import { GatewayError } from '../errors/gateway-error.ts';
import type { Clock } from '../lifecycle/clock.ts';
import { TenantRateLimiter, type RateLimit, type RateLimiter } from '../request-path/admit/rate-limit.ts';
import type { SharedState } from './redis-connection.ts';

/** KEYS[1] bucket; ARGV rate (tokens/s), burst. Returns {allowed, wait_ms}. */
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, wait}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    voxgateTokenBucket(key: string, rate: number, burst: number): Promise<[number, number]>;
  }
}

export interface RateLimiterCounters {
  shared: number;
  fallback: number;
}

export class SharedRateLimiter implements RateLimiter {
  readonly #local: TenantRateLimiter;
  readonly counters: RateLimiterCounters = { shared: 0, fallback: 0 };

  constructor(
    private readonly shared: SharedState,
    clock: Clock,
  ) {
    this.#local = new TenantRateLimiter(clock);
    shared.redis.defineCommand('voxgateTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
  }

  /** Takes one token for `tenant` or throws 429 `rate_limited`; never throws for Redis's sake. */
  async take(tenant: string, limit: RateLimit): Promise<void> {
    if (this.shared.up) {
      let answer: [number, number] | undefined;
      try {
        answer = await this.shared.redis.voxgateTokenBucket(this.shared.key('rl', tenant), limit.rps, limit.burst);
      } catch (err) {
        this.shared.failed('rate_limit', err);
      }
      if (answer) {
        this.counters.shared++;
        const [allowed, waitMs] = answer;
        if (allowed === 1) return;
        throw new GatewayError('VOX_ERR_RATE_LIMITED', `tenant ${tenant} is over ${limit.rps} requests/s`, { retryAfterMs: waitMs });
      }
    }
    this.counters.fallback++;
    const n = this.shared.replicas;
    this.#local.take(tenant, { rps: limit.rps / n, burst: Math.max(1, limit.burst / n) });
  }
}
