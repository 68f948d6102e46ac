/**
 * The runtime's stable error codes. Clients and the gateway match on these strings, never on
 * messages, so a code is never renamed or reused (see docs/node-runtime-api.md).
 * @module
 */
export const RuntimeErrorCodes = {
  invalid_json: { status: 400, retryable: false },
  invalid_encoding: { status: 400, retryable: false },
  invalid_request: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  not_found: { status: 404, retryable: false },
  unknown_model: { status: 404, retryable: false },
  method_not_allowed: { status: 405, retryable: false },
  /** `offset_samples` asked of a pack whose audio is not reproducible sample for sample. */
  not_deterministic: { status: 409, retryable: false },
  body_too_large: { status: 413, retryable: false },
  text_too_long: { status: 413, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  unknown_voice: { status: 422, retryable: false },
  queue_full: { status: 503, retryable: true },
  draining: { status: 503, retryable: true },
  not_ready: { status: 503, retryable: true },
  engine_failure: { status: 503, retryable: true },
  deadline_exceeded: { status: 504, retryable: false },
  internal: { status: 500, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type RuntimeErrorCode = keyof typeof RuntimeErrorCodes;
