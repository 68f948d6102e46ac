/**
 * CORS for browser clients on other origins (config `cors`; off while `allow_origins` is empty).
 * An allowed origin gets `Access-Control-Allow-Origin` (its own value, or `*` when `*` is listed)
 * and the response headers a client reads; a preflight (`OPTIONS` with
 * `Access-Control-Request-Method` on a known path) is answered 204 with the methods that path
 * serves and the request headers the API reads. `Authorization` is listed explicitly: a `*` in
 * `Access-Control-Allow-Headers` would not cover it. No cookies are used, so no credentials mode.
 * @module
 */
import type { Config } from '../config/schema.ts';

export type CorsConfig = Config['cors'];

const ALLOW_HEADERS = 'authorization, content-type, traceparent, x-request-id, x-request-timeout-ms, x-region';
const EXPOSE_HEADERS =
  'x-trace-id, x-request-id, traceparent, x-model, x-region, x-node, x-attempts, x-degraded, x-truncated, x-model-version, x-sample-rate, x-audio-ms, x-engine, retry-after';

/** The `Access-Control-Allow-Origin` value for `origin`, or undefined when it is not allowed. */
export function allowedOrigin(cors: CorsConfig, origin: string | undefined): string | undefined {
  if (origin === undefined || cors.allow_origins.length === 0) return undefined;
  if (cors.allow_origins.includes(origin)) return origin;
  return cors.allow_origins.includes('*') ? '*' : undefined;
}

/** Headers for an answer to an allowed origin. */
export function corsHeaders(allowed: string): Record<string, string> {
  return { 'access-control-allow-origin': allowed, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'origin' };
}

/** The 204 answer's headers for a preflight on a path serving `methods`. */
export function preflightHeaders(allowed: string, methods: readonly string[], cors: CorsConfig): Record<string, string> {
  return {
    'access-control-allow-origin': allowed,
    'access-control-allow-methods': methods.join(', '),
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': String(cors.max_age_s),
    vary: 'origin',
  };
}
