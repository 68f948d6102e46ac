/**
 * W3C Trace Context `traceparent` (version 00): the one parser and the one formatter the gateway
 * uses, for the header it reads from clients and the one it sends to nodes and canaries.
 * @module
 */
import { randomHex } from './random-hex.ts';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  parentId: string;
  flags: string;
}

/** The parts of a valid header (case and surrounding space forgiven), else undefined. All-zero
 * ids and version ff are invalid (W3C Trace Context §3.2). */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, parentId: m[3]!, flags: m[4]! };
}

/** A version-00, sampled header for `traceId`, with `parentId` or a fresh random span id. */
export function formatTraceparent(traceId: string, parentId: string = randomHex(8)): string {
  return `00-${traceId}-${parentId}-01`;
}
