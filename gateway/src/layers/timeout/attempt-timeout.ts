/**
 * Per-try timeout: each attempt gets `min(attempt_ms, time left)`, as a signal that the
 * request's deadline also aborts (one `TrySignal` per try, no `AbortSignal.any`), so an expired
 * try frees its socket instead of merely losing a race. A try that times out fails with `VOX_ERR_ATTEMPT_TIMEOUT` (retryable);
 * the deadline itself fails with `VOX_ERR_DEADLINE_EXCEEDED` (linkerd stream-timeouts keeps the
 * two apart). Streamed bodies detach the per-try timer once headers arrived.
 *
 * The per-try timeout bounds service, not a queue the balancer chose to join: when the chosen
 * node has work ahead of this request, the balancer extends the try by that estimated wait
 * (`extendTry`, capped by the balancer and the deadline). Without it a node at 80 % load with a
 * burst in its queue looked as if it could not answer in time, and requests were shed as busy.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Layer, UpstreamRequest } from '../service.ts';
import { TrySignal } from './try-signal.ts';

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
      let perTry = Math.min(attemptMs(req), left);
      let expiresAt = clock.now() + perTry;
      // One TrySignal per try, fed by the deadline through a plain listener: AbortSignal.any
      // built a second signal per try (and registers it for GC tracking), and an AbortController
      // per try was still the costliest web-API call on the hot path (bench/results/profile.md).
      const signal = new TrySignal();
      const onDeadline = () => signal.abort(req.deadline.reason);
      req.deadline.addEventListener('abort', onDeadline, { once: true });
      const expire = () => signal.abort(new GatewayError('VOX_ERR_ATTEMPT_TIMEOUT', `no answer within the ${perTry} ms per-try timeout`));
      let timer = setTimeout(expire, perTry);
      const extendTry = (ms: number) => {
        const until = Math.min(expiresAt + ms, req.deadlineAt);
        if (until <= expiresAt || signal.aborted) return;
        clearTimeout(timer);
        timer = setTimeout(expire, until - clock.now());
        perTry += until - expiresAt;
        expiresAt = until;
      };
      try {
        const res = await inner({ ...req, signal, extendTry });
        // A buffered body arrived whole; a streamed one started in time and from here runs
        // under the deadline only: the deadline's abort is forwarded to this try's signal for as
        // long as the body streams (undici holds it), so the client leaving still frees the socket.
        clearTimeout(timer);
        if (Buffer.isBuffer(res.body)) req.deadline.removeEventListener('abort', onDeadline);
        else res.body.once('close', () => req.deadline.removeEventListener('abort', onDeadline));
        return res;
      } catch (err) {
        clearTimeout(timer);
        req.deadline.removeEventListener('abort', onDeadline);
        if (signal.aborted && signal.reason !== undefined) throw req.deadline.aborted ? req.deadline.reason : signal.reason;
        throw err;
      }
    };
}
