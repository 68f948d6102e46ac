/**
 * Translates what comes back from the outside (undici errors, opossum errors, node-runtime error
 * envelopes) into catalogue errors, at the point where it enters the gateway (fastify's
 * `AVVIO_ERRORS_MAP`). Every other file sees only `GatewayError`s.
 * @module
 */
import { GatewayError, isGatewayError, type UpstreamFacts } from './gateway-error.ts';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND']);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RESPONSE_STATUS_CODE',
]);

function errCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** An error thrown by undici (or the socket) while calling `node`, before any response started. */
export function fromTransportError(err: unknown, facts: UpstreamFacts): GatewayError {
  if (isGatewayError(err)) return err;
  const code = errCode(err);
  if (code && CONNECT_CODES.has(code))
    return new GatewayError('VOX_ERR_UPSTREAM_CONNECT', `connect to ${facts.node} failed: ${code}`, { cause: err, upstream: facts });
  if (code && RESET_CODES.has(code))
    return new GatewayError('VOX_ERR_UPSTREAM_RESET', `connection to ${facts.node} failed: ${code}`, { cause: err, upstream: facts });
  return new GatewayError('VOX_ERR_UPSTREAM_RESET', `call to ${facts.node} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err, upstream: facts });
}

/** Opossum's own rejections (`EOPENBREAKER`, `ESEMLOCKED`, `ESHUTDOWN`). */
export function fromBreakerError(err: unknown, facts: UpstreamFacts): GatewayError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (code === 'EOPENBREAKER' || code === 'ESEMLOCKED' || code === 'ESHUTDOWN')
    return new GatewayError('VOX_ERR_BREAKER_OPEN', `breaker for ${facts.node} is open`, { cause: err, upstream: facts });
  return undefined;
}

/** Parses `Retry-After` (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/**
 * A non-2xx answer from a node, with its (small, already read) error body. 4xx are the caller's
 * fault and are forwarded with the node's status and code; 503 `queue_full`/`draining` mean the
 * node is full (overload, retry elsewhere); other 5xx are node failures.
 */
export function fromUpstreamStatus(status: number, body: string, retryAfterMs: number | undefined, facts: UpstreamFacts): GatewayError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    /* not an envelope: keep the status only */
  }
  const withFacts: UpstreamFacts = { ...facts, status, ...(code ? { code } : {}) };
  const opts = { upstream: withFacts, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 503 && (code === 'queue_full' || code === 'draining'))
    return new GatewayError('VOX_ERR_UPSTREAM_BUSY', `node ${facts.node} is full (${code})`, opts);
  if (status === 504) return new GatewayError('VOX_ERR_DEADLINE_EXCEEDED', `node ${facts.node}: ${message ?? 'deadline exceeded'}`, opts);
  if (status >= 500 || status < 400)
    return new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${facts.node} answered ${status}${code ? ` ${code}` : ''}`, opts);
  if (status === 404 && code === 'unknown_model') return new GatewayError('VOX_ERR_UPSTREAM_FAILURE', `node ${facts.node} does not serve the model`, opts);
  return new GatewayError('VOX_ERR_UPSTREAM_REJECTED', message ?? `node ${facts.node} rejected the request`, {
    ...opts,
    status: status === 429 ? 400 : status,
    wire: code ?? 'upstream_rejected',
  });
}
