/**
 * Trace id: reused from a valid W3C `traceparent` (core/traceparent.ts), else a fresh random one.
 * @module
 */
import { randomHex } from '../../core/random-hex.ts';
import { parseTraceparent } from '../../core/traceparent.ts';

export function traceIdFrom(traceparent: string | undefined): string {
  return parseTraceparent(traceparent)?.traceId ?? randomHex(16);
}
