/**
 * Per-try timeout: each attempt gets `min(attempt_ms, time left)`, as an AbortSignal combined with
 * the request's deadline (`AbortSignal.any`), so an expired try frees its socket instead of
 * merely losing a race. A try that times out fails with `VOX_ERR_ATTEMPT_TIMEOUT` (retryable);
 * the deadline itself fails with `VOX_ERR_DEADLINE_EXCEEDED` (linkerd stream-timeouts keeps the
 * two apart). Streamed bodies detach the per-try timer once headers arrived.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Layer, UpstreamRequest } from '../service.ts';

export interface AttemptTimeoutOptions {
  /** The per-try timeout for this request (longer texts get longer). */
  attemptMs: (req: UpstreamRequest) => number;
  clock: Clock;
}

/**
 * @example
 * const layer = attemptTimeout({ attemptMs: (req) => 1500 + 2 * req.textLength, clock: systemClock });
 */
export function attemptTimeout({ attemptMs, clock }: AttemptTimeoutOptions): Layer {
  return (inner) =>
    async function attemptTimeoutLayer(req) {
      if (req.deadline.aborted) throw req.deadline.reason;
      const left = req.deadlineAt - clock.now();
      if (left <= 0) throw new GatewayError('VOX_ERR_DEADLINE_EXCEEDED');
      const perTry = Math.min(attemptMs(req), left);
      const ctrl = new AbortController();
      const timer = setTimeout(
        () => ctrl.abort(new GatewayError('VOX_ERR_ATTEMPT_TIMEOUT', `no answer within the ${perTry} ms per-try timeout`)),
        perTry,
      );
      const signal = AbortSignal.any([req.deadline, ctrl.signal]);
      try {
        const res = await inner({ ...req, signal });
        // A buffered body arrived whole; a streamed one started in time and from here runs
        // under the deadline only (its signal still carries the deadline and client abort).
        clearTimeout(timer);
        return res;
      } catch (err) {
        clearTimeout(timer);
        if (signal.aborted && signal.reason !== undefined) throw req.deadline.aborted ? req.deadline.reason : signal.reason;
        throw err;
      }
    };
}
