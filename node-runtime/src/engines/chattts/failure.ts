/**
 * A session run that fails (out of memory, a CUDA error, a corrupt graph) fails that one request
 * with the runtime's retryable `engine_failure` (503) — never a crash, never a 500 — after the
 * caller has released the request's tensors (spec: "releases its tensors and leaves the process
 * serving").
 * @module
 */
import { RuntimeError } from '../../errors/runtime-error.ts';

export function engineFailure(stage: string, cause: unknown): RuntimeError {
  const detail = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  return new RuntimeError('engine_failure', `chattts ${stage} failed: ${detail}`, { cause, retryAfterS: 1 });
}
