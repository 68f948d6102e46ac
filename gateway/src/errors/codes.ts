/**
 * The gateway's stable error catalogue. Each code has one HTTP status, a public wire code (the
 * `error.code` in the envelope) and whether a client may retry. `docs/errors.md` lists every code;
 * `test/gateway/errors/codes.test.ts` checks both stay in step. Match on `code`, never `instanceof`.
 * @module
 */
export interface ErrorSpec {
  status: number;
  /** The code clients see in the envelope. */
  wire: string;
  retryable: boolean;
  message: string;
}

export const ERROR_CODES = {
  VOX_ERR_INVALID_JSON: { status: 400, wire: 'invalid_json', retryable: false, message: 'body is not valid JSON' },
  VOX_ERR_INVALID_REQUEST: { status: 400, wire: 'invalid_request', retryable: false, message: 'request does not match the schema' },
  VOX_ERR_UNSUPPORTED_FORMAT: { status: 400, wire: 'unsupported_format', retryable: false, message: 'response format not supported' },
  VOX_ERR_UNAUTHORIZED: { status: 401, wire: 'unauthorized', retryable: false, message: 'missing or invalid API key' },
  VOX_ERR_FORBIDDEN: { status: 403, wire: 'forbidden', retryable: false, message: 'key not allowed to use this resource' },
  VOX_ERR_NOT_FOUND: { status: 404, wire: 'not_found', retryable: false, message: 'no such route' },
  VOX_ERR_METHOD_NOT_ALLOWED: { status: 405, wire: 'method_not_allowed', retryable: false, message: 'method not allowed' },
  VOX_ERR_TEXT_TOO_LONG: { status: 413, wire: 'text_too_long', retryable: false, message: "text longer than the plan's limit" },
  VOX_ERR_BODY_TOO_LARGE: { status: 413, wire: 'body_too_large', retryable: false, message: 'request body over the byte limit' },
  VOX_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, wire: 'unsupported_media_type', retryable: false, message: 'content type must be application/json' },
  VOX_ERR_UNKNOWN_VOICE: { status: 422, wire: 'unknown_voice', retryable: false, message: 'voice not served by the chosen model' },
  VOX_ERR_UNSUPPORTED_LANGUAGE: { status: 422, wire: 'unsupported_language', retryable: false, message: 'no configured model speaks the language of this text' },
  VOX_ERR_UNKNOWN_MODEL: { status: 400, wire: 'unknown_model', retryable: false, message: 'unknown model' },
  VOX_ERR_RATE_LIMITED: { status: 429, wire: 'rate_limited', retryable: true, message: "tenant's rate limit exceeded" },
  VOX_ERR_CONCURRENCY_LIMITED: { status: 429, wire: 'concurrency_limited', retryable: true, message: 'gateway concurrency limit reached' },
  VOX_ERR_BUSY: { status: 503, wire: 'busy', retryable: true, message: 'every capable node is saturated' },
  VOX_ERR_NO_CAPACITY: { status: 503, wire: 'no_capacity', retryable: true, message: 'no capable node is reachable' },
  VOX_ERR_UPSTREAM_UNAVAILABLE: { status: 503, wire: 'upstream_unavailable', retryable: true, message: 'upstream nodes failed and the retry budget or attempts ran out' },
  VOX_ERR_DRAINING: { status: 503, wire: 'draining', retryable: true, message: 'gateway is shutting down' },
  VOX_ERR_DEADLINE_EXCEEDED: { status: 504, wire: 'deadline_exceeded', retryable: true, message: "the request's deadline ran out" },
  VOX_ERR_ATTEMPT_TIMEOUT: { status: 504, wire: 'attempt_timeout', retryable: true, message: 'the upstream did not answer within the per-try timeout' },
  VOX_ERR_UPSTREAM_CONNECT: { status: 503, wire: 'upstream_connect', retryable: true, message: 'could not connect to the upstream node' },
  VOX_ERR_UPSTREAM_RESET: { status: 503, wire: 'upstream_reset', retryable: true, message: 'the upstream connection failed before a response' },
  VOX_ERR_UPSTREAM_BUSY: { status: 503, wire: 'upstream_busy', retryable: true, message: 'the upstream node is full' },
  VOX_ERR_UPSTREAM_FAILURE: { status: 503, wire: 'upstream_failure', retryable: true, message: 'the upstream node failed the request' },
  VOX_ERR_UPSTREAM_REJECTED: { status: 400, wire: 'upstream_rejected', retryable: false, message: 'the upstream node rejected the request' },
  VOX_ERR_BREAKER_OPEN: { status: 503, wire: 'breaker_open', retryable: true, message: "the node's circuit breaker is open" },
  VOX_ERR_CLIENT_CLOSED: { status: 499, wire: 'client_closed', retryable: false, message: 'the client went away' },
  VOX_ERR_INTERNAL: { status: 500, wire: 'internal', retryable: false, message: 'internal gateway error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
