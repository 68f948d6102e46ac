/**
 * The job runner: claims queued jobs from the store with a lease it renews, synthesises the
 * segments not yet finished through the same `SegmentRun` machinery as interactive answers
 * (batch priority, usual retries and failover), saves each finished segment's PCM (resampled to
 * the output rate) before recording the progress, then encodes the whole answer into the
 * requested format, writes it atomically, marks the job succeeded and delivers its callback.
 *
 * A gateway that dies mid-job leaves a lease that runs out: `requeueExpired` puts the job back
 * and whoever claims it next synthesises only the segments the store does not have. Callback
 * delivery state lives in the store too, so a delivery interrupted by a restart resumes with the
 * same `webhook-id`. Owner: the gateway; `close()` stops claiming and cancels running jobs
 * (their leases run out and they resume on the next start).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter } from 'prom-client';
import { createAudioEncoder, createResampler, OUTPUT_SAMPLE_RATE, type AudioFormat } from '../audio/index.ts';
import type { Config, ModelConfig } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { toGatewayError } from '../errors/to-response.ts';
import type { Clock, TimerHandle } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { SegmentRun, type SegmentSpec } from '../stream/segment-run.ts';
import { streamMetrics, type StreamMetrics } from '../stream/stream-metrics.ts';
import { startDeadline } from '../request-path/admit/deadline.ts';
import type { Service } from '../upstream/service.ts';
import type { JobRecord, JobStatus, JobStore } from './job-store.ts';
import type { DeliveryState, WebhookSender } from './webhook.ts';

export interface JobRunnerDeps {
  store: JobStore;
  service: Service;
  config: () => Config;
  /** The job's segments and who speaks each (planned as an interactive request would be). */
  specs: (job: JobRecord) => { specs: SegmentSpec[]; regions: string[] };
  sender: WebhookSender | undefined;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** This replica's lease owner name. */
  owner?: string;
}

const AUDIO_EXTENSION: Record<AudioFormat, string> = { mp3: 'mp3', opus: 'ogg', aac: 'aac', flac: 'flac', wav: 'wav', pcm: 'pcm' };
export const audioExtension = (format: string): string => AUDIO_EXTENSION[format as AudioFormat] ?? 'bin';

/** Transitions counted and logged in one place. */
export function jobMetrics(registry: Registry): { transitions: Counter<'to'>; segments: Counter<'outcome'>; callbacks: Counter<'state'> } {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    transitions: get(
      'voxgate_jobs_transitions_total',
      () =>
        new PromCounter({
          name: 'voxgate_jobs_transitions_total',
          help: 'Job state transitions, by the state entered.',
          labelNames: ['to'],
          registers: [registry],
        }),
    ),
    segments: get(
      'voxgate_jobs_segments_total',
      () =>
        new PromCounter({ name: 'voxgate_jobs_segments_total', help: 'Job segments synthesised, by outcome.', labelNames: ['outcome'], registers: [registry] }),
    ),
    callbacks: get(
      'voxgate_jobs_callback_attempts_total',
      () =>
        new PromCounter({
          name: 'voxgate_jobs_callback_attempts_total',
          help: 'Job callback attempts, by the delivery state after it.',
          labelNames: ['state'],
          registers: [registry],
        }),
    ),
  };
}

export class JobRunner {
  readonly owner: string;
  readonly #deps: JobRunnerDeps;
  readonly #metrics: ReturnType<typeof jobMetrics>;
  readonly #stream: StreamMetrics;
  readonly #running = new Map<string, AbortController>();
  #timer: TimerHandle | undefined;
  #closed = false;
  #ticking = false;
  #claims = 0;

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps;
    this.owner = deps.owner ?? `gw-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.#metrics = jobMetrics(deps.registry);
    this.#stream = streamMetrics(deps.registry);
  }

  start(): void {
    this.#schedule();
    void this.tick();
  }

  /** The background poll, on the clock: one round at a time, the next one `poll_ms` after it. */
  #schedule(): void {
    if (this.#closed) return;
    const poll = this.#deps.config().jobs?.poll_ms ?? 500;
    this.#timer = this.#deps.clock.setTimer(() => void this.tick().finally(() => this.#schedule()), poll);
  }

  /** Records a transition: the store, a metric and one log line. */
  async transition(job: JobRecord, to: JobStatus, fields: Partial<JobRecord> = {}): Promise<void> {
    await this.#deps.store.update(job.id, { ...fields, status: to, updatedAt: this.#deps.clock.now() });
    this.#metrics.transitions.inc({ to });
    this.#deps.log.info(
      { job_id: job.id, tenant: job.tenant, from: job.status, to, ...(fields.error ? { error_code: fields.error.code } : {}) },
      'job transition',
    );
  }

  /** A job was just queued: look for work now rather than at the next poll. */
  created(_job: JobRecord): void {
    setImmediate(() => void this.tick());
  }

  /** Cancels a job this replica runs (the route has already marked it cancelled). */
  abort(id: string): void {
    this.#running.get(id)?.abort(new GatewayError('VOX_ERR_CLIENT_CLOSED', 'job cancelled'));
  }

  /** One round: requeue dead leases, expire retention, claim while there is room, deliver callbacks. */
  async tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    const { store, clock, log } = this.#deps;
    try {
      const cfg = this.#deps.config().jobs;
      if (!cfg) return;
      const now = clock.now();
      const requeued = await store.requeueExpired(now);
      if (requeued > 0) log.warn({ requeued }, 'jobs whose lease ran out were requeued');
      await store.expire(now);
      while (!this.#closed && this.#running.size < cfg.concurrency) {
        // One lease owner per claim: a run whose lease ran out (and was requeued, maybe to this
        // same replica) can no longer renew, so it stops instead of racing its successor.
        const owner = `${this.owner}#${++this.#claims}`;
        const job = await store.claim(clock.now(), owner, clock.now() + cfg.lease_ms);
        if (!job) break;
        this.#running.get(job.id)?.abort(new GatewayError('VOX_ERR_CLIENT_CLOSED', 'lease lost'));
        this.#metrics.transitions.inc({ to: 'running' });
        log.info({ job_id: job.id, tenant: job.tenant, from: 'queued', to: 'running', owner: this.owner }, 'job transition');
        const ctl = new AbortController();
        this.#running.set(job.id, ctl);
        void this.#run(job, owner, ctl)
          .catch((err: unknown) => log.error({ job_id: job.id, err }, 'job run failed to settle; its lease will requeue it'))
          .finally(() => {
            if (this.#running.get(job.id) === ctl) this.#running.delete(job.id);
          });
      }
      for (const job of await store.dueCallbacks(clock.now())) await this.#deliver(job);
    } catch (err) {
      log.error({ err }, 'job runner round failed');
    } finally {
      this.#ticking = false;
    }
  }

  async #run(claimed: JobRecord, owner: string, ctl: AbortController): Promise<void> {
    const { store, clock, log } = this.#deps;
    const signal = ctl.signal;
    const cfg = this.#deps.config().jobs!;
    const lost = () => ctl.abort(new GatewayError('VOX_ERR_CLIENT_CLOSED', 'lease lost'));
    // Renewed on the clock, like the lease itself; a renewal the store fails to answer is tried
    // again at the next turn (the lease outlasts two misses), one that says "not yours" stops the run.
    let renewal: TimerHandle | undefined;
    let renewing = true;
    const renewEvery = Math.max(100, Math.floor(cfg.lease_ms / 3));
    const scheduleRenewal = () => {
      if (!renewing) return;
      renewal = clock.setTimer(() => {
        void store.renew(claimed.id, owner, clock.now() + cfg.lease_ms).then(
          (held) => (held ? scheduleRenewal() : lost()),
          () => scheduleRenewal(),
        );
      }, renewEvery);
    };
    scheduleRenewal();
    try {
      const { specs, regions } = this.#deps.specs(claimed);
      if (claimed.segmentsTotal !== specs.length) await store.update(claimed.id, { segmentsTotal: specs.length });
      const done = await store.finishedSegments(claimed.id);
      const todo = specs.map((_, i) => i).filter((i) => !done.has(i));
      // Segments in parallel (bounded): each one a run of its own, so one failing does not lose the others.
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          if (signal.aborted) throw signal.reason;
          const index = todo[next++]!;
          const spec = specs[index]!;
          const { pcm, model } = await this.#segment(claimed, spec, index, regions, signal);
          if (signal.aborted) throw signal.reason;
          await store.saveSegment(claimed.id, index, Array.from(spec.text).length, pcm, model, clock.now()).catch((err: unknown) => {
            throw new StoreUnavailable(err);
          });
          this.#metrics.segments.inc({ outcome: 'ok' });
        }
      };
      await Promise.all(Array.from({ length: Math.min(cfg.parallel_segments, Math.max(1, todo.length)) }, worker));
      if (signal.aborted) throw signal.reason;
      // Still ours? A run that lost its lease leaves the job to whoever holds it now.
      if (!(await store.renew(claimed.id, owner, clock.now() + cfg.lease_ms))) throw new GatewayError('VOX_ERR_CLIENT_CLOSED', 'lease lost');
      const files = await store.finishedSegments(claimed.id);
      const audio = await encodeWhole(
        specs.map((_, i) => readFileSync(store.audioPath(files.get(i)!))),
        claimed.request.format as AudioFormat,
      );
      const file = await store.writeAudio(claimed.id, audio, audioExtension(claimed.request.format));
      await store.dropSegments(claimed.id);
      const current = await store.get(claimed.id);
      if (current?.status === 'cancelled') return;
      await this.transition(claimed, 'succeeded', {
        audioFile: file,
        audioBytes: audio.length,
        expiresAt: clock.now() + cfg.retention_ms,
        leaseOwner: undefined,
        leaseUntil: undefined,
        ...(claimed.callbackUrl ? { callback: { state: 'pending', attempts: 0, next_at: clock.now() } satisfies DeliveryState } : {}),
      });
      void this.tick();
    } catch (err) {
      // The store (a shared Redis) failing is not the job's fault: stop, and the lease running out
      // requeues the job with the segments already saved.
      const current = err instanceof StoreUnavailable ? undefined : await store.get(claimed.id).catch(() => undefined);
      if (current === undefined) {
        log.warn({ job_id: claimed.id, err: String(err) }, 'job store unavailable; the job resumes when its lease runs out');
        return;
      }
      if (this.#closed || current?.status === 'cancelled' || current?.leaseOwner !== owner) {
        // Shut down, cancelled or taken over: the lease or the cancel says what happens next.
        return;
      }
      this.#metrics.segments.inc({ outcome: 'failed' });
      const ge = toGatewayError(err);
      log.warn({ job_id: claimed.id, code: ge.wire, err: ge.message }, 'job failed');
      await this.transition(claimed, 'failed', {
        error: { code: ge.wire, message: ge.message },
        expiresAt: clock.now() + cfg.retention_ms,
        leaseOwner: undefined,
        leaseUntil: undefined,
        ...(claimed.callbackUrl ? { callback: { state: 'pending', attempts: 0, next_at: clock.now() } satisfies DeliveryState } : {}),
      });
    } finally {
      renewing = false;
      if (renewal) clock.clearTimer(renewal);
    }
  }

  /** One segment through the layer stack at batch priority: PCM at the output rate. */
  async #segment(job: JobRecord, spec: SegmentSpec, index: number, regions: string[], signal: AbortSignal): Promise<{ pcm: Int16Array; model: string }> {
    const config = this.#deps.config();
    const cfg = config.jobs!;
    const deadline = startDeadline(cfg.segment_timeout_ms, this.#deps.clock);
    const onAbort = () => deadline.clientClosed();
    signal.addEventListener('abort', onAbort, { once: true });
    const run = new SegmentRun(
      {
        traceId: `${job.id}-${index}`,
        segments: [spec],
        regions,
        seed: job.request.seed,
        speed: job.request.speed,
        ...(job.request.refine_text !== undefined ? { refineText: job.request.refine_text } : {}),
        ...(job.request.first_sentence_prompt !== undefined ? { firstSentencePrompt: job.request.first_sentence_prompt } : {}),
        priority: 'batch',
        parallel: 1,
        deadlineAt: deadline.at,
        deadline: deadline.signal,
      },
      {
        service: this.#deps.service,
        clock: this.#deps.clock,
        log: this.#deps.log,
        metrics: this.#stream,
        gapMs: (chars) => config.timeouts.attempt_ms + config.timeouts.attempt_per_char_ms * chars,
        maxBufferedBytes: config.stream.max_buffered_bytes,
        // Nobody reads a job in real time: the runner is its only reader and never stalls.
        readerStallMs: cfg.segment_timeout_ms,
        readerMinSpeed: 0,
        maxResumes: config.stream.max_resumes,
        upstreamMinSpeed: (m: ModelConfig) => m.upstream_min_speed ?? config.stream.upstream_min_speed,
        upstreamSpeedWindowMs: config.stream.upstream_speed_window_ms,
        resumeMode: (m: ModelConfig) => m.resume,
      },
    );
    try {
      const parts: Int16Array[] = [];
      let resampler: ReturnType<typeof createResampler> | undefined;
      let rate = 0;
      for await (const ev of run) {
        if (ev.kind !== 'audio') continue;
        if (!resampler || rate !== ev.sampleRate) {
          if (resampler) parts.push(resampler.flush());
          rate = ev.sampleRate;
          resampler = createResampler(rate, OUTPUT_SAMPLE_RATE);
        }
        const pcm = new Int16Array(ev.pcm.buffer.slice(ev.pcm.byteOffset, ev.pcm.byteOffset + (ev.pcm.byteLength & ~1)));
        parts.push(resampler.push(pcm));
      }
      if (resampler) parts.push(resampler.flush());
      const total = parts.reduce((n, p) => n + p.length, 0);
      const out = new Int16Array(total);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return { pcm: out, model: run.summary().models[0] ?? spec.model.id };
    } finally {
      signal.removeEventListener('abort', onAbort);
      deadline.dispose();
    }
  }

  async #deliver(job: JobRecord): Promise<void> {
    const sender = this.#deps.sender;
    if (!sender || !job.callbackUrl || !job.callback) return;
    const message = {
      // Stable per job and final state: every retry and re-delivery after a restart carries it.
      id: `msg_${job.id}_${job.status}`,
      type: `job.${job.status}`,
      payload: jobView(job, ''),
    };
    const next = await sender.attempt(job.callbackUrl, message, job.callback, new Date(this.#deps.clock.now()));
    this.#metrics.callbacks.inc({ state: next.state });
    await this.#deps.store.update(job.id, { callback: next });
    if (next.state !== 'pending') this.#deps.log.info({ job_id: job.id, callback: next.state, attempts: next.attempts }, 'job callback settled');
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) this.#deps.clock.clearTimer(this.#timer);
    for (const ctl of this.#running.values()) ctl.abort(new GatewayError('VOX_ERR_DRAINING', 'gateway is shutting down'));
  }
}

/** A job store write failed (e.g. Redis unreachable): the run stops without judging the job. */
class StoreUnavailable extends Error {
  constructor(cause: unknown) {
    super('job store unavailable', { cause });
  }
}

/** Concatenated PCM (output rate) → one file in `format`. */
async function encodeWhole(segments: Buffer[], format: AudioFormat): Promise<Buffer> {
  const pcm = Buffer.concat(segments);
  if (format === 'pcm') return pcm;
  if (format === 'wav') return Buffer.concat([wavHeader(pcm.length, OUTPUT_SAMPLE_RATE), pcm]);
  const encoder = createAudioEncoder(format, OUTPUT_SAMPLE_RATE);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const source = (async function* () {
    for (let i = 0; i < pcm.length; i += 64 * 1024) yield pcm.subarray(i, i + 64 * 1024);
  })();
  await pipeline(source, encoder, sink);
  return Buffer.concat(chunks);
}

/** A whole-file WAV header with the real lengths (a job's file is complete, unlike a stream). */
function wavHeader(dataBytes: number, rate: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** The public shape of a job (CONTRACT "Async jobs"). */
export function jobView(job: JobRecord, base: string): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(job.updatedAt).toISOString(),
    progress: { segments_done: job.segmentsDone, segments_total: job.segmentsTotal, chars_done: job.charsDone, chars_total: job.charsTotal },
    format: job.request.format,
    models: job.models ?? [],
    ...(job.error ? { error: job.error } : {}),
    ...(job.callback ? { callback: job.callback } : {}),
    ...(job.metadata ? { metadata: job.metadata } : {}),
    ...(job.status === 'succeeded' ? { audio_url: `${base}/v1/jobs/${job.id}/audio`, audio_bytes: job.audioBytes } : {}),
    ...(job.expiresAt ? { expires_at: new Date(job.expiresAt).toISOString() } : {}),
  };
}
