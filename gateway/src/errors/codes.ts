/**
 * The gateway's stable error catalogue. Each code has one HTTP status, a public wire code (the
 * `error.code` in the envelope), whether a client may retry, and the three decisions every part
 * of the gateway reads from here and nowhere else: the outcome class the request is recorded
 * under, whether the gateway tries again (and where), and what the error says about the node
 * that produced it. `docs/errors.md` lists every code; `test/gateway/errors/codes.test.ts` checks
 * both stay in step. Match on `code`, never `instanceof`.
 * @module
 */

/**
 * How a finished request is counted (metrics `voxgate_gateway_outcomes_total`, the access log):
 * - `served`: audio went back (no error code).
 * - `client_error`: the request was wrong (4xx).
 * - `client_gone`: the client left before the answer; logged as 499, never in the 5xx rate.
 * - `shed`: refused to protect capacity (429/503 with Retry-After): the system working as designed.
 * - `service_failure`: the gateway or its nodes failed (5xx): what the 5xx rate alerts on.
 */
export type OutcomeClass = 'served' | 'client_error' | 'client_gone' | 'shed' | 'service_failure';

/**
 * What the gateway does after this error:
 * - `retry`: another node, spending the retry budget (the node did work and failed).
 * - `reselect`: another node without spending it (the node did no work: refused, full, breaker open).
 * - `other_model`: no node of this model has room anywhere: the plan's other model, once.
 * - `no`: the error is the answer.
 */
export type RetryDecision = 'no' | 'retry' | 'reselect' | 'other_model';

/**
 * What one failed call says about the node (breaker, outlier detection; linkerd `http/classify`):
 * - `failure`: the node is broken or slow (counts towards breaking and ejecting it).
 * - `overload`: the node is full or protected: not its fault, never ejected for it.
 * - `client_error`: the request was bad, or the code is the gateway's own: never counts.
 * - `cancelled`: the deadline ran out or the client left: says nothing about the node.
 */
export type NodeVerdict = 'failure' | 'overload' | 'client_error' | 'cancelled';

export interface ErrorSpec {
  status: number;
  /** The code clients see in the envelope. */
  wire: string;
  retryable: boolean;
  outcome: Exclude<OutcomeClass, 'served'>;
  retry: RetryDecision;
  node: NodeVerdict;
  message: string;
  /**
   * What a client that is still connected is sent, when that differs from `status`/`wire` (which
   * the access log and metrics record): a deadline the client chose is logged as 499 but answered
   * 504 `deadline_exceeded`, as the contract says.
   */
  answer?: { status: number; wire: string };
}

export const ERROR_CODES = {
  VOX_ERR_INVALID_JSON: {
    status: 400,
    wire: 'invalid_json',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'body is not valid JSON',
  },
  VOX_ERR_INVALID_REQUEST: {
    status: 400,
    wire: 'invalid_request',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'request does not match the schema',
  },
  VOX_ERR_INVALID_ENCODING: {
    status: 400,
    wire: 'invalid_encoding',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'body is not valid UTF-8',
  },
  VOX_ERR_UNSUPPORTED_FORMAT: {
    status: 400,
    wire: 'unsupported_format',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'response format not supported',
  },
  VOX_ERR_UNAUTHORIZED: {
    status: 401,
    wire: 'unauthorized',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'missing or invalid API key',
  },
  VOX_ERR_FORBIDDEN: {
    status: 403,
    wire: 'forbidden',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'key not allowed to use this resource',
  },
  VOX_ERR_NOT_FOUND: { status: 404, wire: 'not_found', retryable: false, outcome: 'client_error', retry: 'no', node: 'client_error', message: 'no such route' },
  VOX_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    wire: 'method_not_allowed',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'method not allowed',
  },
  VOX_ERR_TEXT_TOO_LONG: {
    status: 413,
    wire: 'text_too_long',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: "text longer than the plan's limit",
  },
  VOX_ERR_BODY_TOO_LARGE: {
    status: 413,
    wire: 'body_too_large',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'request body over the byte limit',
  },
  VOX_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    wire: 'unsupported_media_type',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'content type must be application/json',
  },
  VOX_ERR_UNKNOWN_VOICE: {
    status: 422,
    wire: 'unknown_voice',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'voice not served by the chosen model',
  },
  VOX_ERR_UNSUPPORTED_LANGUAGE: {
    status: 422,
    wire: 'unsupported_language',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'no configured model speaks the language of this text',
  },
  VOX_ERR_UNKNOWN_MODEL: {
    status: 400,
    wire: 'unknown_model',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'unknown model',
  },
  VOX_ERR_RATE_LIMITED: {
    status: 429,
    wire: 'rate_limited',
    retryable: true,
    outcome: 'shed',
    retry: 'no',
    node: 'client_error',
    message: "tenant's rate limit exceeded",
  },
  VOX_ERR_CONCURRENCY_LIMITED: {
    status: 429,
    wire: 'concurrency_limited',
    retryable: true,
    outcome: 'shed',
    retry: 'no',
    node: 'client_error',
    message: 'gateway concurrency limit reached',
  },
  VOX_ERR_BUSY: {
    status: 503,
    wire: 'busy',
    retryable: true,
    outcome: 'shed',
    retry: 'other_model',
    node: 'overload',
    message: 'every capable node is saturated',
  },
  VOX_ERR_NO_CAPACITY: {
    status: 503,
    wire: 'no_capacity',
    retryable: true,
    outcome: 'shed',
    retry: 'other_model',
    node: 'overload',
    message: 'no capable node is reachable',
  },
  VOX_ERR_UPSTREAM_UNAVAILABLE: {
    status: 503,
    wire: 'upstream_unavailable',
    retryable: true,
    outcome: 'service_failure',
    retry: 'no',
    node: 'client_error',
    message: 'upstream nodes failed and the retry budget or attempts ran out',
  },
  VOX_ERR_DRAINING: { status: 503, wire: 'draining', retryable: true, outcome: 'shed', retry: 'no', node: 'client_error', message: 'gateway is shutting down' },
  VOX_ERR_DEADLINE_EXCEEDED: {
    status: 504,
    wire: 'deadline_exceeded',
    retryable: true,
    outcome: 'service_failure',
    retry: 'no',
    node: 'cancelled',
    message: "the request's deadline ran out",
  },
  VOX_ERR_ATTEMPT_TIMEOUT: {
    status: 504,
    wire: 'attempt_timeout',
    retryable: true,
    outcome: 'service_failure',
    retry: 'retry',
    node: 'failure',
    message: 'the upstream did not answer within the per-try timeout',
  },
  VOX_ERR_UPSTREAM_CONNECT: {
    status: 503,
    wire: 'upstream_connect',
    retryable: true,
    outcome: 'service_failure',
    retry: 'reselect',
    node: 'failure',
    message: 'could not connect to the upstream node',
  },
  VOX_ERR_UPSTREAM_RESET: {
    status: 503,
    wire: 'upstream_reset',
    retryable: true,
    outcome: 'service_failure',
    retry: 'retry',
    node: 'failure',
    message: 'the upstream connection failed before a response',
  },
  VOX_ERR_UPSTREAM_BUSY: {
    status: 503,
    wire: 'upstream_busy',
    retryable: true,
    outcome: 'shed',
    retry: 'reselect',
    node: 'overload',
    message: 'the upstream node is full',
  },
  VOX_ERR_UPSTREAM_FAILURE: {
    status: 503,
    wire: 'upstream_failure',
    retryable: true,
    outcome: 'service_failure',
    retry: 'retry',
    node: 'failure',
    message: 'the upstream node failed the request',
  },
  VOX_ERR_UPSTREAM_REJECTED: {
    status: 400,
    wire: 'upstream_rejected',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'the upstream node rejected the request',
  },
  VOX_ERR_BREAKER_OPEN: {
    status: 503,
    wire: 'breaker_open',
    retryable: true,
    outcome: 'shed',
    retry: 'reselect',
    node: 'overload',
    message: "the node's circuit breaker is open",
  },
  VOX_ERR_CLIENT_CLOSED: {
    status: 499,
    wire: 'client_closed',
    retryable: false,
    outcome: 'client_gone',
    retry: 'no',
    node: 'cancelled',
    message: 'the client went away',
  },
  VOX_ERR_CLIENT_DEADLINE: {
    status: 499,
    wire: 'client_deadline',
    retryable: false,
    outcome: 'client_gone',
    retry: 'no',
    node: 'cancelled',
    message: 'the deadline the client chose (x-request-timeout-ms) ran out',
    answer: { status: 504, wire: 'deadline_exceeded' },
  },
  VOX_ERR_CALLBACK_REFUSED: {
    status: 400,
    wire: 'callback_refused',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'callback_url refused: scheme, credentials or address not allowed',
  },
  VOX_ERR_JOB_NOT_FOUND: {
    status: 404,
    wire: 'job_not_found',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'no such job for this key',
  },
  VOX_ERR_JOB_NOT_READY: {
    status: 422,
    wire: 'job_not_ready',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'the job has no audio (not finished, failed or cancelled)',
  },
  VOX_ERR_JOB_FINISHED: {
    status: 422,
    wire: 'job_finished',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'the job has already finished and cannot be cancelled',
  },
  VOX_ERR_JOBS_DISABLED: {
    status: 403,
    wire: 'jobs_disabled',
    retryable: false,
    outcome: 'client_error',
    retry: 'no',
    node: 'client_error',
    message: 'jobs are not enabled for this plan',
  },
  VOX_ERR_JOBS_PENDING_QUOTA: {
    status: 429,
    wire: 'jobs_pending_quota',
    retryable: true,
    outcome: 'shed',
    retry: 'no',
    node: 'client_error',
    message: 'too many jobs pending for this tenant',
  },
  VOX_ERR_JOBS_DAILY_QUOTA: {
    status: 429,
    wire: 'jobs_daily_quota',
    retryable: true,
    outcome: 'shed',
    retry: 'no',
    node: 'client_error',
    message: "the tenant's characters per day for jobs are used up",
  },
  VOX_ERR_INTERNAL: {
    status: 500,
    wire: 'internal',
    retryable: false,
    outcome: 'service_failure',
    retry: 'no',
    node: 'failure',
    message: 'internal gateway error',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
