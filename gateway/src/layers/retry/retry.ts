/**
 * The retry layer: on a retryable failure, try another node (the balancer skips nodes this request
 * already tried, so the next try goes to another node, then another region), after a full-jitter
 * backoff, within `max_attempts`, the retry budget and the deadline. Host reselections (the
 * request never reached a node) skip the backoff and the budget but are bounded by the node count.
 * When nothing more can be tried, the last upstream failure surfaces as a 503 with Retry-After.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import { toGatewayError } from '../../errors/to-response.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import type { Layer } from '../../upstream/service.ts';
import { fullJitterBackoff } from './backoff.ts';
import type { RetryBudget } from './retry-budget.ts';
import { retryDecision } from './retry-policy.ts';

export interface RetryOptions {
  retry: () => { max_attempts: number; backoff_base_ms: number; backoff_max_ms: number };
  budget: RetryBudget;
  clock: Clock;
  metrics: GatewayMetrics;
  /** Upper bound on reselections (the number of nodes). */
  maxReselects: () => number;
  random?: () => number;
}

function exhausted(last: GatewayError, why: string): GatewayError {
  // A capacity answer (dispatch may try the other model) or the deadline is already the right answer.
  if (retryDecision(last) === 'other_model' || last.code === 'VOX_ERR_DEADLINE_EXCEEDED') return last;
  return new GatewayError('VOX_ERR_UPSTREAM_UNAVAILABLE', `${why}; last failure: ${last.message}`, {
    cause: last,
    ...(last.retryAfterMs !== undefined ? { retryAfterMs: last.retryAfterMs } : {}),
    ...(last.upstream ? { upstream: last.upstream } : {}),
  });
}

/** Gives a held retry slot back (if any); returns the new, empty holding. */
function dropSlot(release: (() => void) | undefined, budget: RetryBudget, metrics: GatewayMetrics): undefined {
  release?.();
  metrics.retryBudgetActive.set(budget.activeRetries());
  return undefined;
}

/**
 * @example
 * const layer = retry({ retry: () => cfg.retry, budget, clock, metrics, maxReselects: () => 8 });
 */
export function retry(options: RetryOptions): Layer {
  const { budget, clock, metrics } = options;
  return (inner) =>
    async function retryLayer(req) {
      let retries = 0;
      let reselects = 0;
      let attempt = 0;
      // A retry holds its budget slot until it succeeds or fails.
      let release: (() => void) | undefined;
      let previous: GatewayError | undefined;
      try {
        for (;;) {
          attempt += 1;
          try {
            return await inner({ ...req, attempt });
          } catch (err) {
            release = dropSlot(release, budget, metrics);
            const last = toGatewayError(err);
            // "Nothing left to try" after a real failure: the failure is the better answer.
            if (last.code === 'VOX_ERR_NO_CAPACITY' && previous) {
              // Only refusals so far: nothing is reachable (no capacity), nothing actually failed.
              if (retries === 0)
                throw new GatewayError('VOX_ERR_NO_CAPACITY', `no node serving ${req.route.model} is reachable`, { cause: previous, retryAfterMs: 1000 });
              throw exhausted(previous, 'every capable node failed');
            }
            if (last.upstream) previous = last;
            if (req.deadline.aborted) throw req.deadline.reason;
            const decision = retryDecision(last);
            if (decision === 'no' || decision === 'other_model') throw last;
            if (decision === 'reselect') {
              if (reselects >= options.maxReselects()) throw exhausted(last, 'every node was tried');
              reselects += 1;
              metrics.retries.inc({ outcome: 'reselect' });
              continue;
            }
            const cfg = options.retry();
            if (retries + 1 >= cfg.max_attempts) throw exhausted(last, `${cfg.max_attempts} attempts failed`);
            release = budget.tryAcquire(req.route.model);
            if (!release) {
              metrics.retries.inc({ outcome: 'budget_exhausted' });
              throw exhausted(last, `retry budget exhausted (${budget.refusal()})`);
            }
            retries += 1;
            metrics.retries.inc({ outcome: 'allowed' });
            metrics.retryBudgetActive.set(budget.activeRetries());
            const delay = fullJitterBackoff(retries, {
              baseMs: cfg.backoff_base_ms,
              maxMs: cfg.backoff_max_ms,
              ...(options.random ? { random: options.random } : {}),
            });
            if (clock.now() + delay >= req.deadlineAt) throw new GatewayError('VOX_ERR_DEADLINE_EXCEEDED', 'no time left for another attempt', { cause: last });
            if (delay > 0) await clock.sleep(delay, req.deadline);
          }
        }
      } finally {
        dropSlot(release, budget, metrics);
      }
    };
}
