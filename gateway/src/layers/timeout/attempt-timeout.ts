/**
 * Per-try timeout: each attempt gets `min(attempt_ms, time left)`, as a signal that the
 * request's deadline also aborts (one `TrySignal` per try, no `AbortSignal.any`), so an expired
 * try frees its socket instead of merely losing a race. A try that times out fails with
 * `VOX_ERR_ATTEMPT_TIMEOUT` (retryable); the deadline itself fails with `VOX_ERR_DEADLINE_EXCEEDED` (linkerd stream-timeouts keeps the
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
import type { Layer, UpstreamRequest } from '../../upstream/service.ts';
import { TrySignal } from '../../core/try-signal.ts';

export interface AttemptTimeoutOptions {
  /** The per-try timeout for this request (longer texts get longer). */
  attemptMs: (req: UpstreamRequest) => number;
  clock: Clock;
}

/**
 * One try's timer and signal. A class, so that the per-try callbacks are assigned once in the
 * constructor rather than declared as named closures (tsx's keepNames wraps each of those in a
 * defineProperty per call).
 */
class Try {
  /** One TrySignal per try, fed by the deadline through a plain listener: AbortSignal.any built
   * a second signal per try (and registers it for GC tracking), and an AbortController per try
   * was still the costliest web-API call on the hot path (bench/results/profile.md). */
  readonly signal = new TrySignal();
  readonly onDeadline: () => void;
  readonly extendTry: (ms: number) => void;
  #perTry: number;
  #expiresAt: number;
  #timer: NodeJS.Timeout;

  constructor(
    private readonly req: UpstreamRequest,
    perTry: number,
    private readonly clock: Clock,
  ) {
    this.#perTry = perTry;
    this.#expiresAt = clock.now() + perTry;
    this.onDeadline = () => this.signal.abort(req.deadline.reason);
    this.extendTry = (ms: number) => this.#extend(ms);
    req.deadline.addEventListener('abort', this.onDeadline, { once: true });
    this.#timer = setTimeout(() => this.#expire(), perTry);
  }

  /** Stops the per-try timer; the deadline stays forwarded until `detach`. */
  stopTimer(): void {
    clearTimeout(this.#timer);
  }

  detach(): void {
    this.req.deadline.removeEventListener('abort', this.onDeadline);
  }

  #expire(): void {
    this.signal.abort(new GatewayError('VOX_ERR_ATTEMPT_TIMEOUT', `no answer within the ${this.#perTry} ms per-try timeout`));
  }

  #extend(ms: number): void {
    const until = Math.min(this.#expiresAt + ms, this.req.deadlineAt);
    if (until <= this.#expiresAt || this.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire(), until - this.clock.now());
    this.#perTry += until - this.#expiresAt;
    this.#expiresAt = until;
  }
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
      const t = new Try(req, Math.min(attemptMs(req), left), clock);
      const signal = t.signal;
      try {
        const res = await inner({ ...req, signal, extendTry: t.extendTry });
        // A buffered body arrived whole; a streamed one started in time and from here runs
        // under the deadline only: the deadline's abort is forwarded to this try's signal for as
        // long as the body streams (the upstream call holds it), so the client leaving still
        // frees the socket.
        t.stopTimer();
        if (Buffer.isBuffer(res.body)) t.detach();
        else res.body.once('close', () => t.detach());
        return res;
      } catch (err) {
        t.stopTimer();
        t.detach();
        if (signal.aborted && signal.reason !== undefined) throw req.deadline.aborted ? req.deadline.reason : signal.reason;
        throw err;
      }
    };
}
