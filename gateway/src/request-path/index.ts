/**
 * The request path, composed here and nowhere else, one function per stage (`serve` calls them
 * in this order):
 *
 *   admit (draining → auth → body → rate limit → concurrency → text policy → deadline)
 *   → plan (language, model by plan and load, voice, region order)
 *   → synthesize: segments (stream/segmenter.ts), each through layers/stack.ts (retry → attempt
 *     timeout → balance → breaker → undici pool) with mid-stream failover, in order → resample →
 *     encode → the client, as the audio is made (stream/stream-answer.ts); the shadow hook gets
 *     the output (never awaited)
 *   → respond (respond.ts) + record (RequestRun.finish: one log line, metrics)
 *
 * It is entered from the gateway's Node listener (`node`, http/edge.ts) or the Hono app
 * (`web`); client-side.ts reads the request either way.
 * docs/request-path.md draws it with the status each stage can fail with.
 * @module
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertFormatAvailable, OUTPUT_SAMPLE_RATE } from '../audio/index.ts';
import type { Config, ModelConfig } from '../config/schema.ts';
import { requestIdFrom } from '../core/request-id.ts';
import { outcomeOf } from '../errors/classify.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, toGatewayError, type ErrorFlavor } from '../errors/to-response.ts';
import type { RetryBudget } from '../layers/retry/retry-budget.ts';
import type { Service } from '../upstream/service.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { BodyPool } from '../upstream/body-pool.ts';
import type { ResponseCache } from '../cache/response-cache.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { KeyTable, Principal } from './admit/auth.ts';
import { parseJson, parseNative, parseOpenAi, type SynthesisInput } from './admit/body.ts';
import { parseTimeoutHeader, startDeadline, type Deadline } from './admit/deadline.ts';
import { detectLanguage } from './admit/language.ts';
import type { ConcurrencyLimiter } from './admit/load-shed.ts';
import type { RateLimiter } from './admit/rate-limit.ts';
import type { TenantUploads } from './admit/uploads.ts';
import { applyTextPolicy } from './admit/text-policy.ts';
import { traceIdFrom } from './admit/trace.ts';
import { NodeClient, WebClient, type ClientSide } from './client-side.ts';
import type { Latches } from './plan/hysteresis.ts';
import { planParts, type PlanPart } from './plan/mixed-plan.ts';
import { poolView } from './plan/pool-view.ts';
import { recordRequest, type RequestRecord } from './record/access-log.ts';
import { errorReply, toResponse, writeReply, type Reply } from './respond.ts';
import type { ShadowHook } from './shadow/shadow.ts';
import { responseCodecs } from './stream/codecs.ts';
import { segmentSpecs } from './stream/segment-specs.ts';
import { streamAnswer } from './stream/stream-answer.ts';

export interface RequestPathDeps {
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  keys: () => KeyTable;
  rateLimiter: RateLimiter;
  concurrency: ConcurrencyLimiter;
  uploads: TenantUploads;
  retryBudget: RetryBudget;
  endpoints: EndpointSet;
  latches: Latches;
  service: Service;
  shadow: () => ShadowHook;
  clock: Clock;
  log: Logger;
  metrics: GatewayMetrics;
  draining: () => boolean;
  /** Buffered bodies go back here once the client's write has finished. */
  bodies: BodyPool;
  /** The audio cache, when configured (cache/response-cache.ts). */
  cache?: () => ResponseCache | undefined;
}

/** What @hono/node-server passes as `c.env`; absent under `app.request()`. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/** One request's bookkeeping until it is recorded. */
class RequestRun {
  release: (() => void) | undefined;
  deadline: Deadline | undefined;
  /** The client chose a deadline shorter than its plan's (`x-request-timeout-ms`). */
  clientDeadline = false;

  constructor(
    readonly rec: RequestRecord,
    readonly started: number,
    private readonly deps: RequestPathDeps,
    private readonly accessLog: Logger,
  ) {}

  /**
   * Releases the slot and the deadline, then writes the one log line and the metrics. A client
   * that left is recorded as 499 whatever was (or could no longer be) sent.
   */
  finish(status: number, err?: unknown): void {
    const rec = this.rec;
    rec.outcome = outcomeOf(err);
    rec.status = rec.outcome === 'client_gone' ? 499 : status;
    if (err !== undefined) rec.errorCode = toGatewayError(err).wire;
    rec.costMs = performance.now() - this.started;
    this.release?.();
    this.deadline?.dispose();
    recordRequest(this.accessLog, this.deps.metrics, rec);
  }
}

/** What admission established; every later stage reads it. */
interface Admitted {
  traceId: string;
  principal: Principal;
  input: SynthesisInput;
  /** The text to synthesise: `input.text`, possibly cut by the plan's text policy. */
  text: string;
  truncated: boolean;
  deadline: Deadline;
  config: Config;
}

export interface RequestPath {
  /** From the gateway's own Node listener (http/edge.ts): no Hono, no web objects. */
  node(incoming: IncomingMessage, outgoing: ServerResponse, flavor: ErrorFlavor): void;
  /** From the Hono app: under @hono/node-server it answers on the Node response itself. */
  web(c: Context, flavor: ErrorFlavor): Promise<Response>;
}

/**
 * draining → auth → rate limit → concurrency → upload slot → body → text policy → deadline.
 * The tenant's rate-limit token and a concurrency slot are taken before the body is read, and a
 * tenant has at most `admission.max_uploads_per_tenant` bodies arriving at once: a slow upload
 * holds what a request holds and is bounded like one, instead of bypassing admission.
 */
async function admit(deps: RequestPathDeps, client: ClientSide, flavor: ErrorFlavor, run: RequestRun): Promise<Admitted> {
  const rec = run.rec;
  if (deps.draining()) throw new GatewayError('VOX_ERR_DRAINING', 'gateway is shutting down', { retryAfterMs: 1000 });
  const config = deps.config();
  const principal: Principal = deps.keys().authenticate(client.header('authorization'));
  rec.tenant = principal.tenant;
  rec.plan = principal.plan;
  const planCfg = Object.hasOwn(config.plans, principal.plan) ? config.plans[principal.plan] : undefined;
  if (!planCfg) throw new GatewayError('VOX_ERR_FORBIDDEN', `plan ${principal.plan} is not configured`);
  const headerMs = parseTimeoutHeader(client.header('x-request-timeout-ms'), config.admission.max_timeout_ms);
  const timeoutMs = headerMs ?? planCfg.timeout_ms;
  run.clientDeadline = headerMs !== undefined && headerMs < planCfg.timeout_ms;
  try {
    const shared = deps.rateLimiter.take(principal.tenant, planCfg.rate_limit);
    if (shared) await shared;
  } catch (err) {
    deps.metrics.admissionRejections.inc({ reason: 'rate_limit', plan: principal.plan });
    throw err;
  }
  try {
    run.release = deps.concurrency.acquire(planCfg.load_share);
  } catch (err) {
    deps.metrics.admissionRejections.inc({ reason: 'concurrency', plan: principal.plan });
    throw err;
  }
  let json: unknown;
  const upload = deps.uploads.acquire(principal.tenant, config.admission.max_uploads_per_tenant);
  if (!upload) {
    deps.metrics.admissionRejections.inc({ reason: 'uploads', plan: principal.plan });
    throw new GatewayError('VOX_ERR_CONCURRENCY_LIMITED', `tenant has ${config.admission.max_uploads_per_tenant} request bodies still arriving`, {
      retryAfterMs: 1000,
    });
  }
  try {
    json = parseJson(await client.body(config.admission.body_limit_bytes));
  } finally {
    upload();
  }
  const input: SynthesisInput = flavor === 'openai' ? parseOpenAi(json, config.openai_models) : parseNative(json);
  rec.inputLen = input.text.length;
  deps.retryBudget.deposit();
  const { text, truncated } = applyTextPolicy(input.text, planCfg.max_text_chars, planCfg.long_text);
  rec.truncated = truncated;
  const deadline = startDeadline(timeoutMs, deps.clock);
  run.deadline = deadline;
  client.watch(deadline);
  return { traceId: rec.traceId, principal, input, text, truncated, deadline, config };
}

/**
 * Languages, model by plan policy and pool load, voice, region order (pure but for the latches);
 * a text no single model speaks is planned as parts by language (plan/mixed-plan.ts).
 */
function plan(deps: RequestPathDeps, client: ClientSide, a: Admitted, rec: RequestRecord): PlanPart[] {
  const headerRegion = client.header('x-region');
  const home = headerRegion && deps.endpoints.regions().includes(headerRegion) ? headerRegion : a.config.region;
  rec.home = home;
  const now = deps.clock.now();
  return planParts({
    text: a.text,
    input: a.input,
    planName: a.principal.plan,
    language: detectLanguage(a.text),
    home,
    regionOrder: (h) => deps.endpoints.regionsFrom(h),
    config: a.config,
    models: deps.models(),
    view: (model) => poolView(deps.endpoints, model, now, deps.models().get(model)?.pack ?? model),
    latches: deps.latches,
  });
}

/**
 * The synthesis stage: the text in segments through the layer stack, streamed to the client in
 * its format as the audio is made (stream/stream-answer.ts), the shadow hook handed the output.
 */
async function synthesize(deps: RequestPathDeps, a: Admitted, parts: PlanPart[], run: RequestRun): Promise<Reply> {
  await assertFormatAvailable(a.input.format);
  const models = deps.models();
  const specs = parts.flatMap((part) => segmentSpecs({ text: part.text, plan: part.plan, voice: a.input.voice, models, stream: a.config.stream }));
  const p = parts[0]!.plan;
  const cache = deps.cache?.();
  const cacheable =
    cache !== undefined &&
    parts.length === 1 &&
    specs.length === 1 &&
    a.input.instructions === undefined &&
    a.input.refineText === undefined &&
    a.input.firstSentencePrompt === undefined &&
    a.input.streamFormat !== 'sse' &&
    cache.enabledFor(a.principal.tenant, a.principal.plan);
  let input = a.input;
  let key: string | undefined;
  if (cacheable) {
    const models = deps.models();
    const otherId = p.model.id === p.plan.primary ? p.plan.fallback : p.plan.primary;
    const found = cache.lookup({
      tenant: a.principal.tenant,
      planName: a.principal.plan,
      model: p.model,
      other: models.get(otherId),
      voice: p.voice,
      speed: a.input.speed,
      seed: a.input.seed,
      text: a.text,
      format: a.input.format,
    });
    if (found.hit) {
      run.rec.model = found.hit.meta['x-model'];
      run.rec.node = 'cache';
      run.finish(200);
      // Served by this gateway: the contract's x-region / x-node / x-attempts say so.
      const served = { 'x-region': p.home, 'x-node': 'cache', 'x-attempts': '0' };
      return {
        kind: 'audio',
        headers: { ...found.hit.meta, ...served, 'x-trace-id': a.traceId, 'x-cache': 'hit', 'content-length': String(found.hit.body.length) },
        body: found.hit.body,
      };
    }
    input = { ...a.input, seed: found.seed };
    key = found.key;
  }
  // A long text (or a mixed-language one) is cached segment by segment, in any format.
  const segmentCache =
    cache !== undefined &&
    !cacheable &&
    specs.length > 1 &&
    a.input.instructions === undefined &&
    a.input.refineText === undefined &&
    a.input.firstSentencePrompt === undefined &&
    cache.enabledFor(a.principal.tenant, a.principal.plan)
      ? cache.segments(a.input.speed, cache.seedFor(a.input.seed))
      : undefined;
  if (segmentCache) input = { ...a.input, seed: cache!.seedFor(a.input.seed) };
  const reply = await streamAnswer(
    {
      service: deps.service,
      clock: deps.clock,
      log: deps.log,
      metrics: deps.metrics,
      shadow: deps.shadow,
      models: deps.models,
      codecs: responseCodecs,
      outputRate: OUTPUT_SAMPLE_RATE,
    },
    {
      traceId: a.traceId,
      tenant: a.principal.tenant,
      input,
      text: a.text,
      truncated: a.truncated,
      plan: p,
      specs,
      deadline: a.deadline,
      config: a.config,
      started: run.started,
      rec: run.rec,
      finish: (status, err) => run.finish(status, err),
      ...(segmentCache ? { segmentCache } : {}),
    },
  );
  if (!cache || key === undefined || reply.kind !== 'stream') return reply;
  const meta: Record<string, string> = {};
  for (const h of ['content-type', 'x-model', 'x-sample-rate', 'x-seed', 'x-model-version', 'x-engine', 'x-segments'])
    if (reply.headers[h] !== undefined) meta[h] = reply.headers[h]!;
  const tee = cache.tee(reply.body, key, meta);
  return {
    ...reply,
    body: tee.body,
    done: (err) => {
      // Only an answer that went out whole, from the planned model, without degradation, is kept.
      tee.keep(err === undefined && run.rec.degraded === undefined);
      reply.done(err);
    },
  };
}

/** Any stage's error as the client's answer, recorded with its code. */
function failed(deps: RequestPathDeps, err: unknown, flavor: ErrorFlavor, run: RequestRun): Reply {
  // A deadline the client chose shorter than its plan's ran out: its choice, not a failure of
  // the service (answered 504 all the same; recorded as client_gone).
  if (run.clientDeadline && toGatewayError(err).code === 'VOX_ERR_DEADLINE_EXCEEDED')
    err = new GatewayError('VOX_ERR_CLIENT_DEADLINE', toGatewayError(err).message, { cause: err });
  const out = errorResponse(err, run.rec.traceId, flavor);
  if (out.error.code === 'VOX_ERR_INTERNAL') deps.log.error({ trace_id: run.rec.traceId, err }, 'internal error');
  run.finish(out.status, out.error);
  return errorReply(out);
}

/**
 * @example
 * const path = createRequestPath(deps);
 * const { app, listener } = createEdge(routeTable({ path, ... }), { log, cors }); // http/
 */
export function createRequestPath(deps: RequestPathDeps): RequestPath {
  const { log } = deps;
  // The access line holds only fields this module sets (ids, names, numbers: never a key or an
  // Authorization header), so it skips the root logger's redaction, whose `*.key` wildcard
  // visited every field of every line (1.4 % of the gateway's CPU in a bench profile).
  const accessLog = log.child({}, { redact: [] });

  async function serve(client: ClientSide, flavor: ErrorFlavor): Promise<Reply> {
    const traceId = traceIdFrom(client.header('traceparent'));
    const requestId = requestIdFrom(client.header('x-request-id'));
    const run = new RequestRun({ traceId, requestId, route: client.path, status: 0, attempts: 0, costMs: 0 }, performance.now(), deps, accessLog);
    try {
      const admitted = await admit(deps, client, flavor, run);
      const planned = plan(deps, client, admitted, run.rec);
      return await synthesize(deps, admitted, planned, run);
    } catch (err) {
      return failed(deps, err, flavor, run);
    }
  }

  function write(outgoing: ServerResponse, reply: Reply): void {
    if (!outgoing.destroyed) return writeReply(outgoing, reply, deps.bodies);
    // The client left before the answer could be written: nothing to write.
    if (reply.kind === 'audio') deps.bodies.give(reply.body);
    else if (reply.kind === 'stream') {
      reply.body.destroy();
      reply.done(new GatewayError('VOX_ERR_CLIENT_CLOSED'));
    }
  }

  function node(incoming: IncomingMessage, outgoing: ServerResponse, flavor: ErrorFlavor): void {
    serve(new NodeClient(incoming, outgoing), flavor)
      .then((reply) => write(outgoing, reply))
      .catch((err: unknown) => {
        // serve() turns every error into a reply, so this is a bug in writing one (as Hono's
        // onError would): a 500 if nothing was sent yet, else the connection is cut.
        log.error({ err }, 'unhandled error');
        if (outgoing.headersSent || outgoing.destroyed) return void outgoing.destroy();
        writeReply(
          outgoing,
          errorReply(
            errorResponse(
              new GatewayError('VOX_ERR_INTERNAL', undefined, { cause: err }),
              traceIdFrom(incoming.headers.traceparent as string | undefined),
              flavor,
            ),
          ),
          deps.bodies,
        );
      });
  }

  return {
    node,
    async web(c, flavor) {
      const bindings = c.env as NodeBindings | undefined;
      if (bindings?.incoming && bindings.outgoing) {
        node(bindings.incoming, bindings.outgoing, flavor);
        return RESPONSE_ALREADY_SENT;
      }
      return toResponse(await serve(new WebClient(c), flavor));
    },
  };
}
