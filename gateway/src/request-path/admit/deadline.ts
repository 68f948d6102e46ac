/**
 * The request's one deadline budget: `x-request-timeout-ms` (capped at
 * `admission.max_timeout_ms`) or the plan's `timeout_ms`. One signal (a TrySignal, no
 * AbortController) aborts at the deadline (reason: `VOX_ERR_DEADLINE_EXCEEDED`) or when the
 * client disconnects (reason: `VOX_ERR_CLIENT_CLOSED`); every later timeout derives from it.
 * @module
 */
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Clock, TimerHandle } from '../../lifecycle/clock.ts';
import { TrySignal, type AttemptSignal } from '../../core/try-signal.ts';

export interface Deadline {
  at: number;
  signal: AttemptSignal;
  /** The client went away: aborts with `VOX_ERR_CLIENT_CLOSED` (no-op once aborted). */
  clientClosed(): void;
  /** Stops the timer; idempotent. */
  dispose(): void;
}

export function parseTimeoutHeader(value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value.trim()))
    throw new GatewayError('VOX_ERR_INVALID_REQUEST', 'x-request-timeout-ms must be a positive integer', { param: 'x-request-timeout-ms' });
  const ms = Number(value);
  if (ms <= 0) throw new GatewayError('VOX_ERR_INVALID_REQUEST', 'x-request-timeout-ms must be positive', { param: 'x-request-timeout-ms' });
  return Math.min(ms, max);
}

class RequestDeadline implements Deadline {
  readonly at: number;
  readonly signal = new TrySignal();
  readonly clientClosed: () => void;
  readonly #timer: TimerHandle;
  readonly #clock: Clock;

  constructor(ms: number, clock: Clock) {
    const signal = this.signal;
    this.at = clock.now() + ms;
    this.#clock = clock;
    this.#timer = clock.setTimer(() => signal.abort(new GatewayError('VOX_ERR_DEADLINE_EXCEEDED', `the ${ms} ms deadline ran out`)), ms);
    this.clientClosed = () => {
      signal.abort(new GatewayError('VOX_ERR_CLIENT_CLOSED'));
    };
  }

  dispose(): void {
    this.#clock.clearTimer(this.#timer);
  }
}

/**
 * The request path calls `clientClosed()` when the client goes away (the Node response's `close`
 * event, or a web request's signal); no request creates an AbortController.
 */
export function startDeadline(ms: number, clock: Clock): Deadline {
  return new RequestDeadline(ms, clock);
}
