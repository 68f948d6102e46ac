/**
 * One call to a node as an undici dispatch handler: what `Pool.request()` + `body.arrayBuffer()`
 * did, without the per-call AsyncResource, response Readable, async body consumption and header
 * copies (undici was 87 µs/request against the raw proxy's 37 in bench/results/profile.md).
 *
 * - 200 with a Content-Length up to `bufferMaxBytes`: the body is copied into one buffer of that
 *   size from the body pool (body-pool.ts); a body that ends short (or runs long) is
 *   `VOX_ERR_UPSTREAM_RESET`, and so is a WAV cut short inside (wav-integrity.ts). Both are
 *   retryable, and the buffer goes back to the pool at once.
 * - 200 otherwise: resolved at once with a Node `Readable` over the body, with backpressure
 *   (pause/resume) and `destroy()` aborting the upstream request; the request path checks the
 *   streamed length against Content-Length (request-path/respond.ts).
 * - any other status: up to 16 KiB of the body is read for the node's error envelope
 *   (`fromUpstreamStatus`), then the request is aborted.
 * - the attempt's AbortSignal aborts the request at any point (before the request is written,
 *   while waiting for headers, while the body streams); the caller then sees the signal's reason.
 * @module
 */
import { Readable } from 'node:stream';
import { errors, type Dispatcher } from 'undici';
import { GatewayError, type UpstreamFacts } from '../errors/gateway-error.ts';
import { fromTransportError, fromUpstreamStatus, parseRetryAfter } from '../errors/from-upstream.ts';
import type { UpstreamResponse } from './service.ts';
import type { AttemptSignal } from '../core/try-signal.ts';
import type { BodyPool } from './body-pool.ts';
import type { Endpoint } from './endpoints.ts';
import { ERROR_BODY_MAX, firstValues } from './response-head.ts';
import { wavProblem } from './wav-integrity.ts';

/** As undici's response body stream. */
const STREAM_HIGH_WATER_MARK = 64 * 1024;

type Mode = 'buffer' | 'stream' | 'error';

export interface NodeCallOptions {
  endpoint: Pick<Endpoint, 'id' | 'region'>;
  facts: UpstreamFacts;
  signal: AttemptSignal;
  bufferMaxBytes: number;
  bodies: BodyPool;
  now: () => number;
  resolve: (res: UpstreamResponse) => void;
  reject: (err: unknown) => void;
}

export class NodeCallHandler implements Dispatcher.DispatchHandler {
  readonly #o: NodeCallOptions;
  #controller: Dispatcher.DispatchController | null = null;
  /** Set when the signal fired before undici handed us a controller. */
  #pendingAbort: unknown = undefined;
  #settled = false;
  #mode: Mode | undefined;
  #status = 0;
  #headers: Record<string, string> = {};
  #length: number | undefined;
  #buf: Buffer | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #stream: Readable | undefined;
  #ended = false;
  readonly #onAbort: () => void;

  constructor(o: NodeCallOptions) {
    this.#o = o;
    this.#onAbort = () => this.#abort(o.signal.reason);
    o.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Fails the call before it was dispatched (undici never saw it). */
  fail(err: unknown): void {
    this.#detach();
    this.#settle(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort as Error);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.#status = statusCode;
    const out = firstValues(headers);
    this.#headers = out;
    const cl = out['content-length'];
    const len = cl !== undefined ? Number(cl) : undefined;
    this.#length = len;
    if (statusCode !== 200) {
      this.#mode = 'error';
      return;
    }
    if (len !== undefined && Number.isFinite(len) && len <= this.#o.bufferMaxBytes) {
      this.#mode = 'buffer';
      this.#buf = this.#o.bodies.take(len);
      return;
    }
    this.#mode = 'stream';
    const stream = new Readable({
      highWaterMark: STREAM_HIGH_WATER_MARK,
      read: () => controller.resume(),
      destroy: (err, cb) => {
        if (!this.#ended) controller.abort(err ?? new errors.RequestAbortedError());
        cb(err);
      },
    });
    // The signal stays attached while the body streams (client abort, deadline), as undici's.
    stream.once('close', () => this.#detach());
    this.#stream = stream;
    this.#settle(undefined, { status: 200, headers: out, body: stream, contentLength: len, node: this.#o.endpoint.id, region: this.#o.endpoint.region });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    switch (this.#mode) {
      case 'buffer': {
        const buf = this.#buf!;
        if (this.#size + chunk.length > buf.length) {
          this.#recycle();
          this.#fail(
            controller,
            new GatewayError('VOX_ERR_UPSTREAM_RESET', `node ${this.#o.endpoint.id} sent more than its ${buf.length} bytes`, { upstream: this.#answered() }),
          );
          return;
        }
        chunk.copy(buf, this.#size);
        this.#size += chunk.length;
        return;
      }
      case 'stream':
        if (!this.#stream!.push(chunk)) controller.pause();
        return;
      case 'error':
        if (this.#size + chunk.length > ERROR_BODY_MAX) {
          this.#fail(controller, this.#statusError());
          return;
        }
        this.#chunks.push(chunk);
        this.#size += chunk.length;
        return;
      default:
    }
  }

  onResponseEnd(): void {
    this.#ended = true;
    switch (this.#mode) {
      case 'buffer': {
        this.#detach();
        const id = this.#o.endpoint.id;
        const len = this.#length!;
        const body = this.#buf!;
        let problem: string | null = null;
        if (this.#size !== len) problem = `sent ${this.#size} of ${len} bytes`;
        else if (this.#headers['content-type'] === 'audio/wav') {
          const cut = wavProblem(body);
          if (cut) problem = `sent an incomplete WAV: ${cut}`;
        }
        if (problem) {
          this.#recycle();
          return this.#settle(new GatewayError('VOX_ERR_UPSTREAM_RESET', `node ${id} ${problem}`, { upstream: this.#answered() }));
        }
        return this.#settle(undefined, { status: 200, headers: this.#headers, body, contentLength: len, node: id, region: this.#o.endpoint.region });
      }
      case 'stream':
        this.#stream!.push(null);
        return;
      default:
        this.#detach();
        return this.#settle(this.#statusError());
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#ended = true;
    if (this.#stream) {
      if (!this.#stream.destroyed) this.#stream.destroy(err);
      return;
    }
    this.#detach();
    if (this.#mode === 'buffer') this.#recycle();
    if (this.#o.signal.aborted) return this.#settle(this.#o.signal.reason);
    this.#settle(fromTransportError(err, this.#answered()));
  }

  /** A buffered body that will not be served goes back to the pool (once). */
  #recycle(): void {
    if (this.#buf) this.#o.bodies.give(this.#buf);
    this.#buf = undefined;
  }

  /** The upstream facts with the status once the node answered: a failure without one never got an answer (outlier-detection.ts). */
  #answered(): UpstreamFacts {
    return this.#status === 0 ? this.#o.facts : { ...this.#o.facts, status: this.#status };
  }

  #statusError(): GatewayError {
    const text = Buffer.concat(this.#chunks, this.#size).toString('utf8');
    return fromUpstreamStatus(this.#status, text, parseRetryAfter(this.#headers['retry-after'], this.#o.now()), this.#o.facts);
  }

  /** Settles with `err` and stops the request (its later error is ignored). */
  #fail(controller: Dispatcher.DispatchController, err: GatewayError): void {
    this.#detach();
    this.#settle(err);
    this.#mode = undefined;
    controller.abort(err);
  }

  #abort(reason: unknown): void {
    if (this.#stream) {
      if (!this.#stream.destroyed) this.#stream.destroy(reason as Error);
    } else if (this.#controller) this.#controller.abort(reason as Error);
    else this.#pendingAbort = reason ?? new errors.RequestAbortedError();
  }

  #detach(): void {
    this.#o.signal.removeEventListener('abort', this.#onAbort);
  }

  #settle(err: unknown, res?: UpstreamResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    if (res) this.#o.resolve(res);
    else this.#o.reject(err);
  }
}
