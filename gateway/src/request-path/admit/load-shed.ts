/**
 * The gateway-wide concurrency limit (default 30), shed by plan priority: a plan may fill only its
 * `load_share` of the slots (free 0.6, pro 0.85, enterprise 1), so under load the cheaper plans
 * are refused first. Over the limit: 429 `concurrency_limited` at once, never a queue.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';

export class ConcurrencyLimiter {
  private active = 0;
  constructor(private readonly limit: () => number) {}

  /** Takes a slot or throws 429; the returned function releases it (idempotent). */
  acquire(share: number): () => void {
    const allowed = Math.max(1, Math.floor(this.limit() * share));
    if (this.active >= allowed)
      throw new GatewayError('VOX_ERR_CONCURRENCY_LIMITED', `gateway is at its concurrency limit for this plan (${allowed})`, { retryAfterMs: 1000 });
    this.active += 1;
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.active -= 1;
      }
    };
  }

  inFlight(): number {
    return this.active;
  }
}
