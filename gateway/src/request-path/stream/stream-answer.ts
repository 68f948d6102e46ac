/**
 * The synthesis stage of the request path: every answer is streamed. The plan's text becomes
 * segments (segment-specs.ts), a `SegmentRun` synthesises them through the layer stack with
 * mid-stream failover, and `audioOut` resamples and encodes them for the client. Headers go out
 * with the first audio (so a failure before any audio is still a clean 4xx/5xx); what is only
 * known at the end — every node in order, every model that spoke, a model switch — follows as
 * HTTP trailers (and, for SSE, in the stream). The shadow hook gets the whole output PCM once
 * the client has it.
 * @module
 */
import { randomInt } from 'node:crypto';
import type { SegmentEntries } from '../../cache/response-cache.ts';
import type { Config, ModelConfig } from '../../config/schema.ts';
import { toGatewayError } from '../../errors/to-response.ts';
import type { Service } from '../../upstream/service.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import { audioOut, type AudioOutCodecs } from '../../stream/audio-out.ts';
import { SegmentRun, type SegmentSpec } from '../../stream/segment-run.ts';
import { streamMetrics } from '../../stream/stream-metrics.ts';
import type { ResponseFormat, SynthesisInput } from '../admit/body.ts';
import type { Deadline } from '../admit/deadline.ts';
import type { Plan } from '../plan/plan.ts';
import type { RequestRecord } from '../record/access-log.ts';
import type { Reply } from '../respond.ts';
import { fireShadow, type ShadowHook } from '../shadow/shadow.ts';
import { SHADOW_CAPTURE_MAX_BYTES } from '../shadow/tee.ts';

export interface ResponseCodecs extends AudioOutCodecs {
  contentType: string;
}

export interface StreamAnswerDeps {
  service: Service;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  shadow: () => ShadowHook;
  models: () => ReadonlyMap<string, ModelConfig>;
  /** The codecs of one response (audio/): format, and SSE events or raw bytes. */
  codecs: (format: ResponseFormat, sse: boolean, inputChars: number) => ResponseCodecs;
  outputRate: number;
}

export interface StreamAnswerInput {
  traceId: string;
  tenant: string;
  input: SynthesisInput;
  text: string;
  truncated: boolean;
  plan: Plan;
  specs: SegmentSpec[];
  deadline: Deadline;
  config: Config;
  started: number;
  rec: RequestRecord;
  /** Records the request (once). */
  finish: (status: number, err?: unknown) => void;
  /** The audio cache's segment entries, for a long text of a tenant with the cache on. */
  segmentCache?: SegmentEntries;
}

/** Trailers a streamed answer declares up front (RFC 9110 §6.5) and sends at its end. */
const TRAILERS = ['x-node', 'x-model', 'x-region', 'x-attempts', 'x-model-switch', 'x-resumes', 'x-cached-segments'];

/**
 * @example
 * const reply = await streamAnswer(deps, { traceId, tenant, input, text, truncated, plan, specs, deadline, config, started, rec, finish });
 */
export async function streamAnswer(deps: StreamAnswerDeps, a: StreamAnswerInput): Promise<Reply> {
  const cfg = a.config.stream;
  // Pinned for the whole response: any node, after any failover, renders any segment the same.
  const seed = a.input.seed ?? randomInt(0, 2 ** 31 - 1);
  const planCfg = a.plan.plan;
  const instructionsUsed = a.input.instructions !== undefined && a.specs.every((s) => s.model.instructions);
  const runStarted = performance.now();
  const run = new SegmentRun(
    {
      traceId: a.traceId,
      segments: a.specs,
      regions: a.plan.regions,
      seed,
      ...(a.input.speed !== undefined ? { speed: a.input.speed } : {}),
      ...(instructionsUsed ? { instructions: a.input.instructions! } : {}),
      ...(a.input.refineText !== undefined ? { refineText: a.input.refineText } : {}),
      ...(a.input.firstSentencePrompt !== undefined ? { firstSentencePrompt: a.input.firstSentencePrompt } : {}),
      parallel: planCfg.parallel_segments,
      deadlineAt: a.deadline.at,
      deadline: a.deadline.signal,
    },
    {
      service: deps.service,
      clock: deps.clock,
      log: deps.log,
      metrics: streamMetrics(deps.metrics.registry),
      gapMs: (chars) => a.config.timeouts.attempt_ms + a.config.timeouts.attempt_per_char_ms * chars,
      maxBufferedBytes: cfg.max_buffered_bytes,
      readerStallMs: cfg.reader_stall_ms,
      readerMinSpeed: cfg.reader_min_speed,
      maxResumes: cfg.max_resumes,
      upstreamMinSpeed: (m) => m.upstream_min_speed ?? cfg.upstream_min_speed,
      upstreamSpeedWindowMs: cfg.upstream_speed_window_ms,
      resumeMode: (m) => m.resume,
      ...(a.segmentCache ? { segmentCache: a.segmentCache } : {}),
    },
  );
  try {
    await run.first();
  } catch (err) {
    run.cancel(err);
    // The access line of a request whose every attempt failed says how many there were, not 0.
    const failed = run.summary().attempts;
    a.rec.attempts = failed.length;
    a.rec.attemptLog = failed.length > 0 ? failed : undefined;
    throw err;
  }
  // Time from the first segment's node request to its first audio: the rest of the first byte's
  // wait is the gateway's own (Server-Timing, so clients and benchmarks can tell them apart).
  const upstreamMs = performance.now() - runStarted;

  const sse = a.input.streamFormat === 'sse';
  const switches: string[] = [];
  const hook = deps.shadow();
  const capture = !hook.idle?.() && hook.captureStreams?.(a.text, a.plan.planName) === true;
  let codecs: ResponseCodecs;
  let out: ReturnType<typeof audioOut>;
  try {
    codecs = deps.codecs(a.input.format, sse, a.text.length);
    out = audioOut(run, {
      outputRate: deps.outputRate,
      codecs,
      onEvent: (ev) => switches.push(`${ev.segment}:${ev.from}>${ev.to}`),
      ...(capture ? { capturePcmBytes: SHADOW_CAPTURE_MAX_BYTES } : {}),
    });
  } catch (err) {
    // No encoder (a full pool): the answer is an error, and its segments must stop with it.
    run.cancel(err);
    throw err;
  }

  const first = run.slots[0]!;
  const rec = a.rec;
  const degraded = new Set(a.plan.degraded);
  const noteDegraded = () => {
    const s = run.summary();
    if (s.regions.some((r) => r !== a.plan.home)) degraded.add('region_failover');
    if (s.switches > 0) degraded.add('primary_unavailable');
    rec.degraded = degraded.size > 0 ? [...degraded].join(',') : undefined;
    return s;
  };
  const s0 = noteDegraded();
  // The models planned, with any switch made before the first audio (sticky for later segments).
  const plannedModels = [...new Set(a.specs.map((s) => run.switchedTo.get(s.model.id)?.model.id ?? s.model.id))];
  rec.model = plannedModels.join(',');
  rec.node = first.nodes[0];
  rec.region = first.regions[0];
  rec.attempts = s0.attempts.length;

  if (!hook.idle?.())
    fireShadow(
      hook,
      {
        traceId: a.traceId,
        tenant: a.tenant,
        input: { ...a.input, seed },
        text: a.text,
        plan: a.plan,
        served: {
          model: plannedModels[0]!,
          node: first.nodes[0] ?? '',
          region: first.regions[0] ?? '',
          status: 200,
          latencyMs: performance.now() - a.started,
          attempts: s0.attempts.length,
          // The judge gets the response's PCM at the output rate, whatever format the client got.
          headers: { 'x-sample-rate': String(deps.outputRate), 'content-type': 'audio/pcm' },
          audio: undefined,
          ...(capture ? { audioLater: out.pcm } : {}),
        },
      },
      (err) => deps.log.warn({ trace_id: a.traceId, err: (err as Error)?.message }, 'shadow failed'),
    );

  const headers: Record<string, string> = {
    'content-type': codecs.contentType,
    'x-trace-id': a.traceId,
    'x-model': plannedModels.join(','),
    'x-region': first.regions[0] ?? '',
    'x-node': first.nodes[0] ?? '',
    'x-attempts': String(s0.attempts.length),
    'x-cache': 'miss',
    'x-segments': String(a.specs.length),
    'x-seed': String(seed),
    'x-sample-rate': String(deps.outputRate),
    'server-timing': `upstream;dur=${upstreamMs.toFixed(1)};desc="node to first audio", gateway;dur=${(performance.now() - a.started - upstreamMs).toFixed(1)}`,
    trailer: TRAILERS.join(', '),
  };
  if (sse) headers['cache-control'] = 'no-cache';
  for (const h of ['x-model-version', 'x-engine'] as const) if (first.headers?.[h] !== undefined) headers[h] = first.headers[h];
  if (rec.degraded) headers['x-degraded'] = rec.degraded;
  if (a.truncated) {
    headers['x-truncated'] = 'true';
    headers['x-spoken-chars'] = String(Array.from(a.text).length);
  }
  if (a.input.instructions !== undefined && !instructionsUsed) headers['x-instructions'] = 'ignored';

  let ended: Record<string, string> | undefined;
  /** What only the end knows: recorded once, sent as trailers where the protocol allows. */
  const atEnd = (): Record<string, string> => {
    if (ended) return ended;
    const s = noteDegraded();
    rec.model = s.models.join(',');
    rec.node = s.nodes.join(',');
    rec.attempts = s.attempts.length;
    rec.attemptLog = s.attempts.length > s.nodes.length ? s.attempts : undefined;
    ended = {
      'x-node': s.nodes.join(','),
      'x-model': s.models.join(','),
      'x-region': [...new Set(s.regions)].join(','),
      'x-attempts': String(s.attempts.length),
      'x-model-switch': switches.join(' ') || 'none',
      'x-resumes': String(s.resumes),
      'x-cached-segments': String(s.cachedSegments),
    };
    return ended;
  };

  return {
    kind: 'stream',
    headers,
    body: out.body,
    expected: undefined,
    trailers: atEnd,
    done: (err) => {
      atEnd();
      if (err === undefined) return a.finish(200);
      // The run's own failure after the headers (its cause is kept), else the client left.
      const cause = run.signal.aborted ? run.signal.reason : err;
      const ge = toGatewayError(cause);
      a.finish(ge.status === 499 || ge.code === 'VOX_ERR_CLIENT_CLOSED' ? 499 : ge.status, ge);
    },
  };
}
