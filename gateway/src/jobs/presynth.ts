/**
 * `POST /v1/presynth`: fills the audio cache ahead of demand (the night-time pre-synthesis),
 * at batch priority so interactive traffic keeps its capacity. Body: `{ items: [{ text, voice?,
 * format?, speed?, seed? }] }` (up to 100). Each item is planned as an interactive request of the
 * caller's plan would be, keyed the same way, and — when not cached yet — synthesised through
 * the same `SegmentRun` and encoded by the same `audioOut` as a streamed answer, so a later hit
 * returns the very bytes a miss would have. The answer lists, per item, `added`, `cached`
 * (already there) or `skipped` (not cacheable: several segments or languages, plan not enabled)
 * or `failed` with the error code.
 * @module
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { OUTPUT_SAMPLE_RATE } from '../audio/index.ts';
import type { Config, ModelConfig } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, toGatewayError } from '../errors/to-response.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyTable } from '../request-path/admit/auth.ts';
import { NativeBodySchema, parseJson, parseNative, readBody } from '../request-path/admit/body.ts';
import { startDeadline } from '../request-path/admit/deadline.ts';
import type { Latches } from '../request-path/plan/hysteresis.ts';
import { responseCodecs } from '../request-path/stream/codecs.ts';
import { audioOut } from '../stream/audio-out.ts';
import { SegmentRun } from '../stream/segment-run.ts';
import type { StreamMetrics } from '../stream/stream-metrics.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { Service } from '../upstream/service.ts';
import type { ResponseCache } from '../cache/response-cache.ts';
import { planBatch } from './plan-batch.ts';

/** Where the routes are declared: the gateway's route table (http/routes.ts `routeSink`). */
interface RouteMount {
  get(path: string, web: (c: Context) => Response | Promise<Response>): void;
  post(path: string, web: (c: Context) => Response | Promise<Response>): void;
  delete(path: string, web: (c: Context) => Response | Promise<Response>): void;
}

export interface PresynthDeps {
  cache: ResponseCache;
  service: Service;
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  keys: () => KeyTable;
  endpoints: EndpointSet;
  latches: Latches;
  clock: Clock;
  log: Logger;
  stream: StreamMetrics;
}

const PresynthBodySchema = z
  .object({
    items: z
      .array(NativeBodySchema.omit({ stream_format: true, instructions: true }).strict())
      .min(1)
      .max(100),
  })
  .strict();

type ItemResult = { index: number; status: 'added' | 'cached' | 'skipped' | 'failed'; bytes?: number; reason?: string };

/**
 * @example
 * mountPresynth(app, deps);
 */
export function mountPresynth(app: RouteMount, deps: PresynthDeps): void {
  const fail = (_c: Context, err: unknown) => {
    const out = errorResponse(err, '-', 'native');
    return new Response(out.body, { status: out.status, headers: out.headers });
  };
  app.post('/v1/presynth', async (c) => {
    try {
      const config = deps.config();
      const p = deps.keys().authenticate(c.req.header('authorization'));
      if (!deps.cache.enabledFor(p.tenant, p.plan)) throw new GatewayError('VOX_ERR_FORBIDDEN', `the audio cache is not enabled for plan ${p.plan}`);
      const parsed = PresynthBodySchema.safeParse(parseJson(await readBody(c.req.raw, config.admission.body_limit_bytes * 10)));
      if (!parsed.success) throw new GatewayError('VOX_ERR_INVALID_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const results: ItemResult[] = [];
      // One at a time: pre-synthesis is batch work and should not crowd the nodes' batch slots.
      for (const [index, raw] of parsed.data.items.entries()) results.push(await one(deps, p.tenant, p.plan, index, raw));
      const count = (s: ItemResult['status']) => results.filter((r) => r.status === s).length;
      return c.json({ added: count('added'), cached: count('cached'), skipped: count('skipped'), failed: count('failed'), items: results });
    } catch (err) {
      return fail(c, err);
    }
  });
}

async function one(deps: PresynthDeps, tenant: string, planName: string, index: number, raw: unknown): Promise<ItemResult> {
  try {
    const config = deps.config();
    const input = parseNative(raw);
    // The interactive path neither reads nor stores such answers: pre-synthesising one would fill
    // the cache with audio nobody can hit.
    if (input.refineText !== undefined || input.firstSentencePrompt !== undefined)
      return { index, status: 'skipped', reason: 'answers with refine_text or first_sentence_prompt are not cached' };
    const models = deps.models();
    const { parts, specs } = planBatch(deps, input, planName);
    if (parts.length !== 1 || specs.length !== 1) return { index, status: 'skipped', reason: 'only one-segment texts are cached' };
    const plan = parts[0]!.plan;
    const otherId = plan.model.id === plan.plan.primary ? plan.plan.fallback : plan.plan.primary;
    const found = deps.cache.lookup({
      tenant,
      planName,
      model: plan.model,
      other: models.get(otherId),
      voice: plan.voice,
      speed: input.speed,
      seed: input.seed,
      text: input.text,
      format: input.format,
    });
    if (found.hit) return { index, status: 'cached', bytes: found.hit.body.length };
    if (found.key === undefined) return { index, status: 'skipped', reason: 'no node has reported the pack version yet' };
    const deadline = startDeadline(config.jobs?.segment_timeout_ms ?? 120_000, deps.clock);
    try {
      const run = new SegmentRun(
        {
          traceId: `presynth-${index}`,
          segments: specs,
          regions: plan.regions,
          seed: found.seed,
          ...(input.speed !== undefined ? { speed: input.speed } : {}),
          priority: 'batch',
          parallel: 1,
          deadlineAt: deadline.at,
          deadline: deadline.signal,
        },
        {
          service: deps.service,
          clock: deps.clock,
          log: deps.log,
          metrics: deps.stream,
          gapMs: (chars) => config.timeouts.attempt_ms + config.timeouts.attempt_per_char_ms * chars,
          maxBufferedBytes: config.stream.max_buffered_bytes,
          readerStallMs: 600_000,
          readerMinSpeed: 0,
          maxResumes: config.stream.max_resumes,
          upstreamMinSpeed: (m: ModelConfig) => m.upstream_min_speed ?? config.stream.upstream_min_speed,
          upstreamSpeedWindowMs: config.stream.upstream_speed_window_ms,
          resumeMode: (m) => m.resume,
        },
      );
      await run.first();
      const first = run.slots[0]!;
      const out = audioOut(run, { outputRate: OUTPUT_SAMPLE_RATE, codecs: responseCodecs(input.format, false, input.text.length) });
      const chunks: Buffer[] = [];
      for await (const chunk of out.body) chunks.push(chunk as Buffer);
      const s = run.summary();
      // What the interactive answer's headers would carry (stream-answer.ts), for a later hit.
      const meta: Record<string, string> = {
        'content-type': responseCodecs(input.format, false, 0).contentType,
        'x-model': s.models.join(','),
        'x-sample-rate': String(OUTPUT_SAMPLE_RATE),
        'x-seed': String(found.seed),
        'x-segments': '1',
      };
      for (const h of ['x-model-version', 'x-engine'] as const) if (first.headers?.[h] !== undefined) meta[h] = first.headers[h];
      if (s.switches > 0) return { index, status: 'skipped', reason: 'served by another model than planned' };
      const body = Buffer.concat(chunks);
      deps.cache.store.put(found.key, body, meta);
      return { index, status: 'added', bytes: body.length };
    } finally {
      deadline.dispose();
    }
  } catch (err) {
    return { index, status: 'failed', reason: toGatewayError(err).wire };
  }
}
