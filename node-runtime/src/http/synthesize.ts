/**
 * `POST /v1/synthesize`: validate → lease the model → wait for a slot within the deadline →
 * synthesize → answer, either one-shot (a whole WAV or PCM body with a content-length) or, with
 * `"stream": true`, as the framed stream of protocol/frames.ts (synthesize-stream.ts). Every exit
 * releases what it took (slot, model lease, deadline timer).
 * @module
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { textLength } from '../../../protocol/text-length.ts';
import { encodePcm, encodeWav } from '../audio/wav.ts';
import { OUTPUT_SAMPLE_RATES, resampleResult } from '../audio/sample-rate.ts';
import { isStreamCut } from '../engines/engine.ts';
import { RuntimeError } from '../errors/runtime-error.ts';
import { isDeterministic } from '../packs/manifest.ts';
import { normalizeForSpeech } from '../text/normalize.ts';
import { requestSignal } from '../scheduler/deadline.ts';
import type { RuntimeEnv } from './context.ts';
import { readJsonBody } from './read-body.ts';
import { recordCompute, servedByHeaders, type Admitted, type SynthesizeDeps } from './synthesis-answer.ts';
import { answerStream, connectionDropped } from './synthesize-stream.ts';

export type { SynthesizeDeps } from './synthesis-answer.ts';

export const SynthesizeBodySchema = z
  .object({
    text: z.string().refine((t) => t.trim().length > 0, 'text must not be empty'),
    model: z.string().min(1).max(128).optional(),
    voice: z.string().min(1).max(128).optional(),
    /** One-shot answers only; a stream always carries PCM s16le frames. */
    format: z.enum(['wav', 'pcm']).default('wav'),
    speed: z.number().min(0.25).max(4).default(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
    /** Style directions, passed to the engine (the gateway sends them only to models configured to read them). */
    instructions: z.string().max(4096).optional(),
    /** Answer with the framed stream, audio as it is made. */
    stream: z.boolean().default(false),
    /** Start the audio this many samples in; deterministic packs only (else 409 `not_deterministic`). */
    offset_samples: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** Answer at this rate (the engine's audio resampled); absent: the engine's own rate. */
    sample_rate: z.number().int().min(OUTPUT_SAMPLE_RATES.min).max(OUTPUT_SAMPLE_RATES.max).optional(),
    /** Batch work (jobs, pre-synthesis) runs only in slots no interactive request waits for. */
    priority: z.enum(['interactive', 'batch']).default('interactive'),
    /** ChatTTS: run the refine-text stage (default: the pack's setting); other engines ignore it. */
    refine_text: z.boolean().optional(),
    /** ChatTTS: condition later sentences on the first one's audio (default: the pack's setting). */
    first_sentence_prompt: z.boolean().optional(),
  })
  .strict();

export function createSynthesizeHandler(deps: SynthesizeDeps) {
  return async function synthesize(c: Context<RuntimeEnv>): Promise<Response> {
    const log = c.get('log');
    log.shadow = c.req.header('x-shadow') === '1' || undefined;
    if (deps.isDraining()) throw new RuntimeError('draining', 'node is shutting down', { retryAfterS: 1 });
    const body = await readJsonBody(c.req.raw, SynthesizeBodySchema, deps.maxBodyBytes);
    const chars = textLength(body.text);
    log.input_len = chars;
    if (chars > deps.maxTextChars) throw new RuntimeError('text_too_long', `text has ${chars} characters; this node accepts at most ${deps.maxTextChars}`);
    if (body.stream) log.stream = true;
    if (body.offset_samples > 0) log.offset_samples = body.offset_samples;
    if (body.priority === 'batch') log.priority = 'batch';

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
      const description = engine.describe();
      log.execution_provider = description.executionProvider;
      if (description.executionProvider === 'cuda') log.gpu_id = deps.gpuId;
      const deterministic = isDeterministic(manifest, description);
      if (body.offset_samples > 0 && !deterministic) {
        throw new RuntimeError(
          'not_deterministic',
          `model ${manifest.name}@${manifest.version} does not reproduce its audio sample for sample, so it cannot start at an offset`,
        );
      }
      const slot = await deps.scheduler.acquire(request.signal, body.priority);
      log.queue_ms = Math.round(slot.queuedMs);
      deps.metrics.queueWait.observe(slot.queuedMs / 1000);
      const admitted: Admitted = {
        c,
        deps,
        manifest,
        engine,
        slot,
        request: {
          text: normalizeForSpeech(body.text, manifest.languages),
          voice: body.voice,
          speed: body.speed,
          seed: body.seed,
          instructions: body.instructions,
          refineText: body.refine_text,
          firstSentencePrompt: body.first_sentence_prompt,
          signal: request.signal,
        },
        sampleRate: body.sample_rate ?? description.sampleRate,
        engineSampleRate: description.sampleRate,
        deterministic,
        offsetSamples: body.offset_samples,
      };
      return body.stream ? await answerStream(admitted) : await answerWhole(admitted, body.format);
    } finally {
      request.dispose();
      lease.release();
    }
  };
}

/** The one-shot answer: synthesize everything, then send it with a content-length. */
async function answerWhole(a: Admitted, format: 'wav' | 'pcm'): Promise<Response> {
  const { c, request, slot } = a;
  let result;
  const started = performance.now();
  try {
    result = await a.engine.synthesize(request);
  } catch (error) {
    if (isStreamCut(error)) return connectionDropped(a, error);
    // An engine that stopped because the signal fired reports the signal's reason, not its own.
    throw request.signal.aborted ? request.signal.reason : error;
  } finally {
    slot.release();
  }
  const computeMs = performance.now() - started;
  if (request.signal.aborted) throw request.signal.reason;
  result = resampleResult(result, a.sampleRate);
  recordCompute(a, computeMs, result.pcm.length);

  const pcm = a.offsetSamples > 0 ? result.pcm.subarray(Math.min(a.offsetSamples, result.pcm.length)) : result.pcm;
  const payload = format === 'wav' ? encodeWav(pcm, result.sampleRate) : encodePcm(pcm);
  return c.body(new Uint8Array(payload.buffer as ArrayBuffer, payload.byteOffset, payload.byteLength), 200, {
    ...servedByHeaders(a),
    'content-type': format === 'wav' ? 'audio/wav' : 'audio/pcm',
    'content-length': String(payload.byteLength),
    'x-audio-ms': String(Math.round((pcm.length / result.sampleRate) * 1000)),
    'x-compute-ms': String(Math.round(computeMs)),
  });
}

function parseBudget(header: string | undefined, fallbackMs: number): number {
  if (header === undefined) return fallbackMs;
  const ms = Number(header);
  if (!Number.isFinite(ms) || ms < 0 || ms > 600_000)
    throw new RuntimeError('invalid_request', 'x-request-deadline-ms must be a number of milliseconds between 0 and 600000');
  return ms;
}
