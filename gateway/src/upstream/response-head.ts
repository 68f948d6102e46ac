/**
 * What both undici dispatch handlers (node-call-handler.ts for clients' calls, the canary's
 * canary-call.ts for mirrors) read the same way from a response head.
 * @module
 */

/** Bytes of a non-200 body kept for its error envelope; the rest is not read. */
export const ERROR_BODY_MAX = 16 * 1024;

/** Response headers as undici hands them over, flattened to lower-case name → first value. */
export function firstValues(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined) out[k] = typeof v === 'string' ? v : v[0]!;
  }
  return out;
}
