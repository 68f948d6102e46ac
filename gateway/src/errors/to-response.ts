/**
 * The one place errors become HTTP (linkerd `ServerRescue`). Walks `.cause` to the first
 * GatewayError; anything else is a bug: 500 `internal`, logged with its stack by the caller,
 * never shown to the client. 429 and 503 always carry `Retry-After`.
 * @module
 */
import { ERROR_CODES, type ErrorSpec } from './codes.ts';
import { GatewayError, findGatewayError } from './gateway-error.ts';

export type ErrorFlavor = 'native' | 'openai';

export interface ErrorBody {
  status: number;
  headers: Record<string, string>;
  body: string;
  error: GatewayError;
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'server_error',
  504: 'timeout_error',
};

/** Normalises any thrown value to a GatewayError (unknowns become `VOX_ERR_INTERNAL`). */
export function toGatewayError(err: unknown): GatewayError {
  return findGatewayError(err) ?? new GatewayError('VOX_ERR_INTERNAL', undefined, { cause: err });
}

export function retryAfterSeconds(err: GatewayError): number {
  return Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000));
}

/**
 * @example
 * const { status, headers, body } = errorResponse(err, traceId, 'native');
 * return new Response(body, { status, headers });
 */
export function errorResponse(err: unknown, traceId: string, flavor: ErrorFlavor): ErrorBody {
  const error = toGatewayError(err);
  const answer = (ERROR_CODES[error.code] as ErrorSpec).answer;
  // Upstream-only codes are internal detail: the client sees the class of failure.
  const status = answer?.status ?? (error.status === 499 ? 503 : error.status);
  const wire = answer?.wire ?? error.wire;
  const message = error.code === 'VOX_ERR_INTERNAL' ? 'internal gateway error' : error.message;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-trace-id': traceId };
  if (status === 429 || status === 503) headers['retry-after'] = String(retryAfterSeconds(error));
  const body =
    flavor === 'openai'
      ? { error: { message, type: OPENAI_TYPES[status] ?? 'server_error', code: wire, param: error.param ?? null } }
      : { error: { code: wire, message, trace_id: traceId, retryable: error.retryable } };
  return { status, headers, body: JSON.stringify(body), error };
}
