/**
 * `POST /v1/synthesize`: validate → lease the model → wait for a slot within the deadline →
 * synthesize → encode. Every exit releases what it took (slot, model lease, deadline timer).
 * @module
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { textLength } from '../../../protocol/text-length.ts';
import { encodePcm, encodeWav } from '../audio/wav.ts';
import { RuntimeError } from '../errors/runtime-error.ts';
import type { RuntimeMetrics } from '../observability/metrics.ts';
import type { ModelRegistry } from '../packs/registry.ts';
import type { Ewma } from '../scheduler/ewma.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import { requestSignal } from '../scheduler/deadline.ts';
import type { RuntimeEnv } from './context.ts';
import { readJsonBody } from './read-body.ts';

export const SynthesizeBodySchema = z
  .object({
    text: z.string().refine((t) => t.trim().length > 0, 'text must not be empty'),
    model: z.string().min(1).max(128).optional(),
    voice: z.string().min(1).max(128).optional(),
    format: z.enum(['wav', 'pcm']).default('wav'),
    speed: z.number().min(0.25).max(4).default(1),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  })
  .strict();

export interface SynthesizeDeps {
  nodeId: string;
  registry: ModelRegistry;
  scheduler: Scheduler;
  metrics: RuntimeMetrics;
  rtf: Ewma;
  maxTextChars: number;
  maxBodyBytes: number;
  defaultDeadlineMs: number;
  isDraining(): boolean;
}

export function createSynthesizeHandler(deps: SynthesizeDeps) {
  return async function synthesize(c: Context<RuntimeEnv>): Promise<Response> {
    const log = c.get('log');
    log.shadow = c.req.header('x-shadow') === '1' || undefined;
    if (deps.isDraining()) throw new RuntimeError('draining', 'node is shutting down', { retryAfterS: 1 });
    const body = await readJsonBody(c.req.raw, SynthesizeBodySchema, deps.maxBodyBytes);
    const chars = textLength(body.text);
    log.input_len = chars;
    if (chars > deps.maxTextChars) throw new RuntimeError('text_too_long', `text has ${chars} characters; this node accepts at most ${deps.maxTextChars}`);

    const budgetMs = parseBudget(c.req.header('x-request-deadline-ms'), deps.defaultDeadlineMs);
    const lease = deps.registry.lease(body.model);
    const request = requestSignal(budgetMs, c.env.outgoing);
    try {
      const { manifest, engine } = lease;
      log.model = manifest.name;
      log.model_version = manifest.version;
      if (body.voice !== undefined && !manifest.voices.includes(body.voice)) {
        throw new RuntimeError('unknown_voice', `voice ${JSON.stringify(body.voice)} is not one of ${manifest.voices.join(', ')}`);
      }
      const slot = await deps.scheduler.acquire(request.signal);
      log.queue_ms = Math.round(slot.queuedMs);
      deps.metrics.queueWait.observe(slot.queuedMs / 1000);
      let result;
      const started = performance.now();
      try {
        result = await engine.synthesize({ text: body.text, voice: body.voice, speed: body.speed, seed: body.seed, signal: request.signal });
      } catch (error) {
        // An engine that stopped because the signal fired reports the signal's reason, not its own.
        throw request.signal.aborted ? request.signal.reason : error;
      } finally {
        slot.release();
      }
      const computeMs = performance.now() - started;
      if (request.signal.aborted) throw request.signal.reason;

      const audioMs = (result.pcm.length / result.sampleRate) * 1000;
      log.compute_ms = Math.round(computeMs);
      log.audio_ms = Math.round(audioMs);
      deps.metrics.compute.observe({ model: manifest.name }, computeMs / 1000);
      deps.metrics.audioSeconds.inc({ model: manifest.name }, audioMs / 1000);
      if (audioMs > 0) deps.rtf.observe(computeMs / audioMs);

      const payload = body.format === 'wav' ? encodeWav(result.pcm, result.sampleRate) : encodePcm(result.pcm);
      return c.body(new Uint8Array(payload.buffer as ArrayBuffer, payload.byteOffset, payload.byteLength), 200, {
        'content-type': body.format === 'wav' ? 'audio/wav' : 'audio/pcm',
        'content-length': String(payload.byteLength),
        'x-node': deps.nodeId,
        'x-model': manifest.name,
        'x-model-version': manifest.version,
        'x-engine': manifest.engine,
        'x-sample-rate': String(result.sampleRate),
        'x-audio-ms': String(Math.round(audioMs)),
        'x-queue-ms': String(Math.round(slot.queuedMs)),
        'x-compute-ms': String(Math.round(computeMs)),
      });
    } finally {
      request.dispose();
      lease.release();
    }
  };
}

function parseBudget(header: string | undefined, fallbackMs: number): number {
  if (header === undefined) return fallbackMs;
  const ms = Number(header);
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000) throw new RuntimeError('invalid_request', 'x-request-deadline-ms must be a number of milliseconds between 0 and 600000');
  return ms;
}
