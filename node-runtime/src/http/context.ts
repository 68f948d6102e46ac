/**
 * Per-request state shared by the runtime's middleware and handlers, typed once.
 * @module
 */
import type { HttpBindings } from '@hono/node-server';

export interface RequestLog {
  model?: string;
  model_version?: string;
  /** The device that ran the model: `cuda`, `cpu`, `wasm` (flite), `simulated`… */
  execution_provider?: string;
  /** The GPU's device id, when a GPU ran it. */
  gpu_id?: number;
  input_len?: number;
  queue_ms?: number;
  compute_ms?: number;
  audio_ms?: number;
  error_code?: string;
  /** The message of an error that had no catalogue code (a bug), when it happened mid-stream. */
  error_detail?: string;
  /** Where a client that left was: sending its body, or waiting for its answer. */
  client_gone?: 'body' | 'waiting';
  shadow?: boolean;
  /** Streaming answers: how much went out and how soon the first audio did. */
  stream?: boolean;
  offset_samples?: number;
  /** Set for batch-class work only (jobs, pre-synthesis). */
  priority?: 'batch';
  first_chunk_ms?: number;
  chunks?: number;
  samples?: number;
  stream_outcome?: string;
}

export interface RuntimeEnv {
  Bindings: HttpBindings;
  Variables: { traceId: string; log: RequestLog };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The W3C trace id when the caller sent a valid `traceparent`, else a fresh one. */
export function traceIdFrom(traceparent: string | undefined): string {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (match && match[1] !== '00000000000000000000000000000000') return match[1]!;
  return crypto.randomUUID().replaceAll('-', '');
}
