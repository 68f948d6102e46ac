/**
 * What the one-shot and the streaming answers of `POST /v1/synthesize` share once a slot is
 * held: the request's parts, the response headers that describe who served it, and the
 * bookkeeping of compute time (metrics, real-time factor, access-log fields).
 * @module
 */
import type { Context } from 'hono';
import type { Engine, SynthesisRequest } from '../engines/engine.ts';
import type { RuntimeMetrics } from '../observability/metrics.ts';
import type { Manifest } from '../packs/manifest.ts';
import type { ModelRegistry } from '../packs/registry.ts';
import type { Ewma } from '../scheduler/ewma.ts';
import type { Scheduler, Slot } from '../scheduler/scheduler.ts';
import type { RuntimeEnv } from './context.ts';

export interface SynthesizeDeps {
  nodeId: string;
  /** The GPU this runtime is bound to (`execution.device_id`), logged when a model runs on it. */
  gpuId: number;
  registry: ModelRegistry;
  scheduler: Scheduler;
  metrics: RuntimeMetrics;
  rtf: Ewma;
  maxTextChars: number;
  maxBodyBytes: number;
  defaultDeadlineMs: number;
  isDraining(): boolean;
}

/** One admitted request: validated, its model leased, its slot granted. */
export interface Admitted {
  c: Context<RuntimeEnv>;
  deps: SynthesizeDeps;
  manifest: Manifest;
  engine: Engine;
  slot: Slot;
  request: SynthesisRequest;
  /** The rate the answer is delivered at: the request's `sample_rate`, else the engine's own. */
  sampleRate: number;
  /** The rate the engine makes its audio at (`describe().sampleRate`). */
  engineSampleRate: number;
  deterministic: boolean;
  offsetSamples: number;
}

export function servedByHeaders(a: Admitted): Record<string, string> {
  return {
    'x-trace-id': a.c.get('traceId'),
    'x-node': a.deps.nodeId,
    'x-model': a.manifest.name,
    'x-model-version': a.manifest.version,
    'x-engine': a.manifest.engine,
    'x-sample-rate': String(a.sampleRate),
    'x-deterministic': String(a.deterministic),
    'x-queue-ms': String(Math.round(a.slot.queuedMs)),
  };
}

/** Metrics and log fields for audio the engine made in `computeMs` (skipped samples included). */
export function recordCompute(a: Admitted, computeMs: number, samples: number): void {
  const audioMs = (samples / a.sampleRate) * 1000;
  const log = a.c.get('log');
  log.compute_ms = Math.round(computeMs);
  log.audio_ms = Math.round(audioMs);
  a.deps.metrics.compute.observe({ model: a.manifest.name }, computeMs / 1000);
  a.deps.metrics.audioSeconds.inc({ model: a.manifest.name }, audioMs / 1000);
  if (audioMs > 0) a.deps.rtf.observe(computeMs / audioMs);
}
