/**
 * One error class for every failure the runtime answers on purpose. The HTTP status and
 * retryability come from the code's catalogue entry, so they cannot disagree between call sites.
 * @module
 */
import { RuntimeErrorCodes, type RuntimeErrorCode } from './codes.ts';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Seconds, for 503s: when the caller may try again. */
  readonly retryAfterS: number | undefined;

  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown; retryAfterS?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = RuntimeErrorCodes[code].status;
    this.retryable = RuntimeErrorCodes[code].retryable;
    this.retryAfterS = options.retryAfterS;
  }
}

/** Matches on `code` rather than `instanceof` so errors from worker threads and other copies match. */
export function isRuntimeError(error: unknown): error is RuntimeError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'RuntimeError' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { code: string }).code in RuntimeErrorCodes
  );
}
