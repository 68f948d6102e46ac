/**
 * `POST /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/audio` (HTTP Range), `DELETE
 * /v1/jobs/{id}`. A job belongs to its tenant: another key gets 404, never 403 (a 403 would say
 * the id exists). Admission: the plan must allow jobs, the text fit the plan's `jobs.max_chars`,
 * the tenant be within its pending and daily quotas (429 + Retry-After), and a callback URL pass
 * the SSRF guard, its host name resolved now as well (400 `callback_refused` before any
 * connection is made; the delivery checks the address it connects to again).
 * @module
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { z } from 'zod';
import { contentTypeOf, type AudioFormat } from '../audio/index.ts';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse } from '../errors/to-response.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { KeyTable, Principal } from '../request-path/admit/auth.ts';
import { NativeBodySchema, parseJson, parseNative, readBody } from '../request-path/admit/body.ts';
import { CallbackRefused, checkCallbackUrl, guardedLookup, type CallbackPolicy } from './callback-guard.ts';
import { DAY_MS, type JobRecord, type JobStore } from './job-store.ts';
import { jobView, type JobRunner } from './runner.ts';

/** Where the routes are declared: the gateway's route table (http/routes.ts `routeSink`). */
interface RouteMount {
  get(path: string, web: (c: Context) => Response | Promise<Response>): void;
  post(path: string, web: (c: Context) => Response | Promise<Response>): void;
  delete(path: string, web: (c: Context) => Response | Promise<Response>): void;
}

export interface JobRoutesDeps {
  store: JobStore;
  runner: JobRunner;
  config: () => Config;
  keys: () => KeyTable;
  clock: Clock;
}

const JobBodySchema = NativeBodySchema.extend({
  callback_url: z.string().min(1).max(2048).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
}).strict();

export function callbackPolicy(config: Config): CallbackPolicy {
  const cb = config.jobs!.callbacks;
  return { allowSchemes: cb.allow_schemes, allowHosts: cb.allow_hosts, allowCidrs: cb.allow_cidrs };
}

/** The URL check, then the host name resolved through the same guard the delivery connects with. */
async function checkCallback(raw: string, policy: CallbackPolicy): Promise<void> {
  try {
    const url = checkCallbackUrl(raw, policy);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const guarded = guardedLookup(policy);
    await new Promise<void>((resolve, reject) => guarded(host, { all: true }, (err: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    if (err instanceof CallbackRefused) throw new GatewayError('VOX_ERR_CALLBACK_REFUSED', err.message, { param: 'callback_url' });
    throw new GatewayError('VOX_ERR_CALLBACK_REFUSED', `callback_url host does not resolve: ${(err as Error).message}`, { param: 'callback_url' });
  }
}

/**
 * @example
 * mountJobRoutes(app, { store, runner, config: () => config, keys: () => keys, clock });
 */
export function mountJobRoutes(app: RouteMount, deps: JobRoutesDeps): void {
  const fail = (c: Context, err: unknown) => {
    const out = errorResponse(err, '-', 'native');
    return new Response(out.body, { status: out.status, headers: out.headers });
  };
  const principal = (c: Context): Principal => deps.keys().authenticate(c.req.header('authorization'));
  /** The job, if it exists and is this tenant's; 404 otherwise. */
  const owned = async (c: Context): Promise<JobRecord> => {
    const p = principal(c);
    const job = await deps.store.get(c.req.param('id') ?? '');
    if (!job || job.tenant !== p.tenant) throw new GatewayError('VOX_ERR_JOB_NOT_FOUND', 'no such job');
    return job;
  };
  const enabled = () => {
    if (!deps.config().jobs) throw new GatewayError('VOX_ERR_NOT_FOUND', 'jobs are not enabled on this gateway');
  };

  app.post('/v1/jobs', async (c) => {
    try {
      enabled();
      const config = deps.config();
      const p = principal(c);
      const limits = config.plans[p.plan]?.jobs;
      if (!limits) throw new GatewayError('VOX_ERR_JOBS_DISABLED', `plan ${p.plan} cannot submit jobs`);
      const json = parseJson(await readBody(c.req.raw, Math.max(config.admission.body_limit_bytes, limits.max_chars * 4 + 16_384)));
      const parsed = JobBodySchema.safeParse(json);
      if (!parsed.success) throw new GatewayError('VOX_ERR_INVALID_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const { callback_url, metadata, ...synth } = parsed.data;
      const input = parseNative(synth);
      const chars = Array.from(input.text).length;
      if (chars > limits.max_chars)
        throw new GatewayError('VOX_ERR_TEXT_TOO_LONG', `text has ${chars} characters; this plan's jobs take at most ${limits.max_chars}`, { param: 'text' });
      if (callback_url !== undefined) await checkCallback(callback_url, callbackPolicy(config));
      const now = deps.clock.now();
      if ((await deps.store.pendingCount(p.tenant)) >= limits.max_pending)
        throw new GatewayError('VOX_ERR_JOBS_PENDING_QUOTA', `at most ${limits.max_pending} jobs may be queued or running`, { retryAfterMs: 30_000 });
      const used = await deps.store.charsOnDay(p.tenant, now);
      if (used + chars > limits.chars_per_day)
        throw new GatewayError('VOX_ERR_JOBS_DAILY_QUOTA', `${used} of ${limits.chars_per_day} characters used today`, {
          retryAfterMs: DAY_MS - (now % DAY_MS),
        });
      const id = `job_${randomUUID().replaceAll('-', '')}`;
      const job: JobRecord = {
        id,
        tenant: p.tenant,
        plan: p.plan,
        status: 'queued',
        request: {
          text: input.text,
          ...(input.voice !== undefined ? { voice: input.voice } : {}),
          format: input.format,
          speed: input.speed ?? 1,
          // Pinned at submission: a resumed job renders its remaining segments like the first ones.
          seed: input.seed ?? randomInt(0, 2 ** 31 - 1),
          ...(input.refineText !== undefined ? { refine_text: input.refineText } : {}),
          ...(input.firstSentencePrompt !== undefined ? { first_sentence_prompt: input.firstSentencePrompt } : {}),
        },
        createdAt: now,
        updatedAt: now,
        segmentsTotal: 0,
        segmentsDone: 0,
        charsTotal: chars,
        charsDone: 0,
        ...(callback_url !== undefined ? { callbackUrl: callback_url } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      };
      await deps.store.create(job);
      deps.runner.created(job);
      return c.json({ id, status: 'queued', status_url: `/v1/jobs/${id}` }, 202, { location: `/v1/jobs/${id}` });
    } catch (err) {
      return fail(c, err);
    }
  });

  app.get('/v1/jobs/:id', async (c) => {
    try {
      enabled();
      return c.json(jobView(await owned(c), ''));
    } catch (err) {
      return fail(c, err);
    }
  });

  app.get('/v1/jobs/:id/audio', async (c) => {
    try {
      enabled();
      const job = await owned(c);
      if (job.status !== 'succeeded' || !job.audioFile) throw new GatewayError('VOX_ERR_JOB_NOT_READY', `job is ${job.status}`);
      const file = deps.store.audioPath(job.audioFile);
      const size = statSync(file).size;
      const headers: Record<string, string> = { 'content-type': contentTypeOf(job.request.format as AudioFormat), 'accept-ranges': 'bytes' };
      const range = parseRange(c.req.header('range'), size);
      if (range === 'unsatisfiable') return new Response(null, { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } });
      const [start, end] = range ?? [0, size - 1];
      const body = size === 0 ? null : (Readable.toWeb(createReadStream(file, { start, end })) as ReadableStream);
      headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
      if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
      return new Response(body, { status: range ? 206 : 200, headers });
    } catch (err) {
      return fail(c, err);
    }
  });

  app.delete('/v1/jobs/:id', async (c) => {
    try {
      enabled();
      const job = await owned(c);
      if (job.status !== 'queued' && job.status !== 'running') throw new GatewayError('VOX_ERR_JOB_FINISHED', `job is ${job.status}`);
      await deps.runner.transition(job, 'cancelled', {
        leaseOwner: undefined,
        leaseUntil: undefined,
        expiresAt: deps.clock.now() + deps.config().jobs!.retention_ms,
      });
      deps.runner.abort(job.id);
      return c.json(jobView({ ...job, status: 'cancelled' }, ''));
    } catch (err) {
      return fail(c, err);
    }
  });
}

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range (RFC 9110 §14.1.2); other forms are ignored (whole body). */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = header?.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}
