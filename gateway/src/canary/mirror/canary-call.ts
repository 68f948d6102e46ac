/**
 * One mirror sent to a canary node, as an undici dispatch handler — for the reason the client
 * path has upstream/node-call-handler.ts: `Pool.request()` with its response Readable, plus an
 * `AbortSignal.timeout` per call, cost a mirror about what two proxied requests cost (bench
 * profile of the shadow phase). The answer's bytes are kept only when asked (the pair will be
 * judged) and up to `maxBytes`; otherwise they are counted and dropped as they arrive. A non-200
 * answer keeps up to 16 KiB for its error envelope. One timer (on the clock) bounds the whole call.
 * It stays apart from node-call-handler.ts, which streams, pools buffers and checks WAVs on the
 * client's hot path; what both read from a response head is upstream/response-head.ts.
 * @module
 */
import { errors, type Dispatcher } from 'undici';
import type { Clock, TimerHandle } from '../../lifecycle/clock.ts';
import { ERROR_BODY_MAX, firstValues } from '../../upstream/response-head.ts';

export interface CanaryCallResult {
  status: number;
  /** Lower-case names, first value. */
  headers: Record<string, string>;
  /** The body, when kept (a 200 asked for, or any error answer). */
  body: Buffer | undefined;
  /** Bytes received. */
  size: number;
}

export interface CanaryCallOptions {
  keepBody: boolean;
  /** Larger answers fail with `canary_body_too_large`. */
  maxBytes: number;
  timeoutMs: number;
  /** Times the call (`timeoutMs`). */
  clock: Clock;
}

/** Why a call failed: a code for the canary report. */
export class CanaryCallError extends Error {
  constructor(
    readonly code: string,
    readonly timeout = false,
  ) {
    super(code);
  }
}

class CanaryCallHandler implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #headers: Record<string, string> = {};
  #keep = false;
  #chunks: Buffer[] = [];
  #size = 0;
  #done = false;
  readonly #timer: TimerHandle;

  constructor(
    private readonly o: CanaryCallOptions,
    private readonly resolve: (r: CanaryCallResult) => void,
    private readonly reject: (err: CanaryCallError) => void,
  ) {
    this.#timer = o.clock.setTimer(() => this.#fail(new CanaryCallError('canary_timeout', true)), o.timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new errors.RequestAbortedError());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = firstValues(headers);
    this.#keep = statusCode !== 200 || this.o.keepBody;
    const declared = Number(this.#headers['content-length']);
    if (statusCode === 200 && declared > this.o.maxBytes) this.#fail(new CanaryCallError('canary_body_too_large'));
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#status !== 200 && this.#size > ERROR_BODY_MAX) return this.#settle(undefined, true);
    if (this.#size > this.o.maxBytes) return this.#fail(new CanaryCallError('canary_body_too_large'));
    if (this.#keep) this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.#settle(undefined, false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.#settle(new CanaryCallError(String((err as { code?: unknown }).code ?? 'canary_transport_error')), false);
  }

  /** A failure of ours (timeout, too large): settles and stops the request. */
  #fail(err: CanaryCallError): void {
    this.#settle(err, true);
  }

  #settle(err: CanaryCallError | undefined, stop: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.o.clock.clearTimer(this.#timer);
    if (err) this.reject(err);
    else
      this.resolve({ status: this.#status, headers: this.#headers, body: this.#keep ? Buffer.concat(this.#chunks, this.#size) : undefined, size: this.#size });
    // Only a request still running is stopped: a finished one keeps its connection alive.
    if (stop) this.#controller?.abort(new errors.RequestAbortedError());
  }
}

/**
 * @example
 * const r = await callCanary(pool, { method: 'POST', path: '/v1/synthesize', headers, body }, { keepBody: false, maxBytes: 32 << 20, timeoutMs: 10_000, clock });
 */
export function callCanary(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions, o: CanaryCallOptions): Promise<CanaryCallResult> {
  return new Promise((resolve, reject) => {
    const handler = new CanaryCallHandler(o, resolve, reject);
    try {
      dispatcher.dispatch(request, handler);
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  });
}
