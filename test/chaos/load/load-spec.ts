/**
 * What the load-generator process is told to do, and what it reports per request. Shared by the
 * generator (which validates its input with this schema) and the runner that spawns it.
 * @module
 */
import { z } from 'zod';

export const PhaseSchema = z
  .object({
    duration_ms: z.number().int().positive().max(3_600_000),
    /** Open-loop arrival rate: requests start on schedule whether or not earlier ones finished. */
    rps: z.number().min(0).max(5_000),
  })
  .strict();

export const LoadSpecSchema = z
  .object({
    /** Gateway base URLs; requests alternate between them. Only 127.0.0.1 is allowed. */
    targets: z.array(z.string().regex(/^http:\/\/127\.0\.0\.1:\d+$/, 'targets must be http://127.0.0.1:PORT')).min(1),
    path: z.string().startsWith('/').default('/v1/synthesize'),
    keys: z.array(z.string().min(1)).min(1),
    texts: z.array(z.string().min(1)).min(1),
    /** Extra body fields (`voice`, `format`…). */
    body: z.record(z.string(), z.unknown()).default({}),
    headers: z.record(z.string(), z.string()).default({}),
    phases: z.array(PhaseSchema).min(1),
    /** Hard cap on requests, whatever the phases say. */
    max_requests: z.number().int().positive().max(500_000),
    /** Requests in flight at once; an arrival beyond it is recorded as `client_saturated`, not sent. */
    max_inflight: z.number().int().positive().max(4_096).default(256),
    /** Client-side give-up per request. */
    timeout_ms: z.number().int().positive().max(120_000).default(20_000),
    /** Where the per-request records go (JSON lines). */
    results_file: z.string().min(1),
  })
  .strict();

export type LoadSpec = z.infer<typeof LoadSpecSchema>;
export type LoadSpecInput = z.input<typeof LoadSpecSchema>;

/** One request's fate, as the client saw it. */
export type OutcomeClass =
  | 'ok'
  /** 200 whose body is not a complete audio file: the worst outcome, a silent failure. */
  | 'bad_audio'
  | '4xx'
  | '429'
  | '503'
  | '504'
  | '5xx'
  /** Connection refused or reset: no HTTP status at all. */
  | 'net_error'
  | 'client_timeout'
  /** Never sent: the generator's own in-flight cap was reached. */
  | 'client_saturated'
  /** Hostile input only: the server closed the connection without an answer (protocol garbage). */
  | 'conn_closed';

export const OUTCOME_CLASSES: readonly OutcomeClass[] = [
  'ok',
  'bad_audio',
  '4xx',
  '429',
  '503',
  '504',
  '5xx',
  'net_error',
  'client_timeout',
  'client_saturated',
  'conn_closed',
];

export interface RequestRecord {
  /** ms since the generator's epoch (`LoadSummary.epoch_ms`). */
  t: number;
  ms: number;
  status: number;
  outcome: OutcomeClass;
  /** Index into `targets` of the gateway this request went to (when there are several). */
  gw?: number;
  /** Index into `keys` of the key it used (when there are several). */
  k?: number;
  bytes: number;
  region?: string;
  node?: string;
  attempts?: number;
  degraded?: string;
  /** `x-model-version` of the pack that served. */
  version?: string;
  code?: string;
  /** 429/503 only: whether `Retry-After` came with it. */
  retry_after?: boolean;
  detail?: string;
}

export interface LoadSummary {
  msg: 'load done';
  epoch_ms: number;
  sent: number;
  records: number;
  elapsed_ms: number;
  /** The generator's own event-loop delay: large values mean the client, not the server, stalled. */
  client_loop_delay_ms?: { p99: number; max: number };
}
