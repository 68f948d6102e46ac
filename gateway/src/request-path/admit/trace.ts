/**
 * Trace id: reused from a valid W3C `traceparent`, else a fresh random one (core/random-hex.ts).
 * @module
 */
import { randomHex } from '../../core/random-hex.ts';

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
export function traceIdFrom(traceparent: string | undefined): string {
  if (traceparent !== undefined) {
    const m = TRACEPARENT.exec(traceparent.trim().toLowerCase());
    if (m && !/^0+$/.test(m[1]!)) return m[1]!;
  }
  return randomHex(16);
}
