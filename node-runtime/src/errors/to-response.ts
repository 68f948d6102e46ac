/**
 * The single place where a failure becomes an HTTP response. Anything that is not a
 * `RuntimeError` is a bug: it is logged with its stack and answered as a bare 500 without detail.
 * @module
 */
import { RuntimeErrorCodes } from './codes.ts';
import { RuntimeError, isRuntimeError } from './runtime-error.ts';

export interface ErrorBody {
  error: { code: string; message: string; trace_id: string; retryable: boolean };
}

/** Engines signal their own failures with a `code: 'engine_failure'` property (e.g. GPU OOM). */
export function normaliseError(error: unknown): RuntimeError | undefined {
  if (isRuntimeError(error)) return error;
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'engine_failure') {
    const message = error instanceof Error ? error.message : 'engine failure';
    return new RuntimeError('engine_failure', message, { cause: error, retryAfterS: 1 });
  }
  return undefined;
}

export function errorResponse(error: unknown, traceId: string): { status: number; body: ErrorBody; headers: Record<string, string>; expected: boolean } {
  const known = normaliseError(error);
  const failure = known ?? new RuntimeError('internal', 'internal error');
  const headers: Record<string, string> = { 'x-trace-id': traceId };
  if (failure.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(failure.retryAfterS)));
  return {
    status: RuntimeErrorCodes[failure.code].status,
    body: { error: { code: failure.code, message: failure.message, trace_id: traceId, retryable: failure.retryable } },
    headers,
    expected: known !== undefined,
  };
}
