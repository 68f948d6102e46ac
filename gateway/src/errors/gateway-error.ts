/**
 * `GatewayError`: the one error type the gateway throws on purpose. It carries a catalogue code
 * (`errors/codes.ts`), the HTTP status and wire code derived from it, whether a retry may help,
 * and the cause it wraps. Extra facts travel as fields (`retryAfterMs`, `upstream`).
 * @module
 */
import { ERROR_CODES, type ErrorCode } from './codes.ts';

export interface UpstreamFacts {
  node: string;
  region: string;
  status?: number;
  /** The node's own error code, when it answered with the envelope. */
  code?: string;
}

export interface GatewayErrorOptions {
  cause?: unknown;
  retryAfterMs?: number;
  upstream?: UpstreamFacts;
  /** Overrides the catalogue status (forwarding a node's 4xx as-is). */
  status?: number;
  /** Overrides the wire code (forwarding a node's 4xx code as-is). */
  wire?: string;
  param?: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly wire: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly upstream: UpstreamFacts | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message?: string, options: GatewayErrorOptions = {}) {
    const spec = ERROR_CODES[code];
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? spec.status;
    this.wire = options.wire ?? spec.wire;
    this.retryable = spec.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.upstream = options.upstream;
    this.param = options.param;
  }
}

/** True when `err` is (duck-typed) a GatewayError: matching on `code`, not `instanceof`. */
export function isGatewayError(err: unknown): err is GatewayError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    Object.hasOwn(ERROR_CODES, (err as { code: string }).code) &&
    typeof (err as { status?: unknown }).status === 'number'
  );
}

/** Walks `.cause` links to the first GatewayError (linkerd `cause_ref`). */
export function findGatewayError(err: unknown): GatewayError | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur !== undefined && cur !== null; depth++) {
    if (isGatewayError(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
