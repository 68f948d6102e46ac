/**
 * One finished mirror: what served the client, how the canary answered, and the judge's
 * metrics when both sides produced audio. This is the unit the store keeps and the verdict reads.
 * @module
 */
import type { PairMetrics } from '../judge/pair-metrics.ts';

export type PairOutcome = 'ok' | 'error' | 'timeout';

export interface PairRecord {
  canary: string;
  /** Epoch ms when the pair finished. */
  at: number;
  traceId: string;
  textLength: number;
  /** Model that served the client (the pair is judged against it). */
  servedModel: string;
  /** Whether `servedModel` is the canary's configured baseline; only those pairs drive the verdict. */
  configuredBaseline: boolean;
  canaryVersion?: string;
  outcome: PairOutcome;
  errorCode?: string;
  baselineLatencyMs: number;
  canaryLatencyMs?: number;
  metrics?: PairMetrics;
}
