/**
 * The request path, composed here and nowhere else, one function per stage (`serve` calls them
 * in this order):
 *
 *   admit (draining → auth → body → rate limit → concurrency → text policy → deadline)
 *   → plan (language, model by plan and load, voice, region order)
 *   → dispatchPlan (layers/stack.ts: retry → attempt timeout → balance → breaker → undici pool)
 *   → shadow (observed just before the response; what it starts is never awaited)
 *   → respond (respond.ts) + record (RequestRun.finish: one log line, metrics)
 *
 * It is entered from the gateway's Node listener (`node`, http/listener.ts) or the Hono app
 * (`web`); client-side.ts reads the request either way.
 * docs/request-path.md draws it with the status each stage can fail with.
 * @module
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Config, ModelConfig } from '../config/schema.ts';
import { outcomeOf } from '../errors/classify.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, toGatewayError, type ErrorFlavor } from '../errors/to-response.ts';
import type { RetryBudget } from '../layers/retry/retry-budget.ts';
import type { AttemptRecord, Service } from '../upstream/service.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { BodyPool } from '../upstream/body-pool.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { KeyTable, Principal } from './admit/auth.ts';
import { parseJson, parseNative, parseOpenAi, type SynthesisInput } from './admit/body.ts';
import { parseTimeoutHeader, startDeadline, type Deadline } from './admit/deadline.ts';
import { detectLanguage } from './admit/language.ts';
import type { ConcurrencyLimiter } from './admit/load-shed.ts';
import type { TenantRateLimiter } from './admit/rate-limit.ts';
import type { TenantUploads } from './admit/uploads.ts';
import { applyTextPolicy } from './admit/text-policy.ts';
import { traceIdFrom } from './admit/trace.ts';
import { NodeClient, WebClient, type ClientSide } from './client-side.ts';
import { dispatch, type Served } from './dispatch/dispatch.ts';
import type { Latches } from './plan/hysteresis.ts';
import { planRequest, type Plan } from './plan/plan.ts';
import { poolView } from './plan/pool-view.ts';
import { recordRequest, type RequestRecord } from './record/access-log.ts';
import { errorReply, toResponse, writeReply, type Reply } from './respond.ts';
import { fireShadow, type ShadowHook } from './shadow/shadow.ts';
import { SHADOW_CAPTURE_MAX_BYTES, teeBody } from './shadow/tee.ts';

export interface RequestPathDeps {
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  keys: () => KeyTable;
  rateLimiter: TenantRateLimiter;
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
}

/** What @hono/node-server passes as `c.env`; absent under `app.request()`. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * One request's bookkeeping until it is recorded. A class rather than closures in the handler:
 * tsx (esbuild keepNames) wraps every named closure in a defineProperty on each call.
 */
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

const AUDIO_TYPES = { wav: 'audio/wav', pcm: 'audio/pcm' } as const;
const PASS_HEADERS = ['x-model-version', 'x-sample-rate', 'x-audio-ms', 'x-engine'];

export interface RequestPath {
  /** From the gateway's own Node listener (http/listener.ts): no Hono, no web objects. */
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
    deps.rateLimiter.take(principal.tenant, planCfg.rate_limit);
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
    throw new GatewayError('VOX_ERR_CONCURRENCY_LIMITED', `tenant has ${config.admission.max_uploads_per_tenant} request bodies still arriving`, { retryAfterMs: 1000 });
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

/** Language, model by plan policy and pool load, voice, region order (pure but for the latches). */
function plan(deps: RequestPathDeps, client: ClientSide, a: Admitted, rec: RequestRecord): Plan {
  const headerRegion = client.header('x-region');
  const home = headerRegion && deps.endpoints.regions().includes(headerRegion) ? headerRegion : a.config.region;
  rec.home = home;
  const now = deps.clock.now();
  return planRequest({
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

/** The layer stack, then the fallback model when the planned one has no capacity. */
async function dispatchPlan(deps: RequestPathDeps, a: Admitted, p: Plan, rec: RequestRecord): Promise<Served> {
  const attempts: AttemptRecord[] = [];
  let served: Served;
  try {
    served = await dispatch(deps.service, {
      traceId: a.traceId,
      input: a.input,
      text: a.text,
      plan: p,
      deadlineAt: a.deadline.at,
      deadline: a.deadline.signal,
      models: deps.models(),
      attempts,
    });
  } catch (err) {
    // The access line says how many attempts a failed request made, not 0.
    rec.attempts = attempts.length;
    rec.attemptLog = attempts.length > 0 ? attempts : undefined;
    throw err;
  }
  const res = served.response;
  rec.model = served.model.id;
  rec.region = res.region;
  rec.node = res.node;
  rec.attempts = served.attempts.length;
  rec.attemptLog = served.attempts.length > 1 ? served.attempts : undefined;
  rec.queueMs = res.headers['x-queue-ms'] !== undefined ? Number(res.headers['x-queue-ms']) : undefined;
  if (rec.queueMs !== undefined && Number.isFinite(rec.queueMs)) deps.metrics.nodeQueue.observe({ node: res.node }, rec.queueMs / 1000);
  rec.degraded = served.degraded.length > 0 ? served.degraded.join(',') : undefined;
  return served;
}

/**
 * Hands the served request to the shadow hook just before the response is written; what it
 * starts is never awaited. A streamed body is teed only when the hook asks; the client then pulls
 * the tee, which is the body this returns.
 */
function shadow(deps: RequestPathDeps, a: Admitted, p: Plan, served: Served, run: RequestRun): Buffer | Readable {
  const res = served.response;
  const hook = deps.shadow();
  const teed = !Buffer.isBuffer(res.body) && hook.captureStreams?.(a.text, p.planName) ? teeBody(res.body, SHADOW_CAPTURE_MAX_BYTES) : undefined;
  if (!hook.idle?.())
    fireShadow(
      hook,
      {
        traceId: a.traceId,
        tenant: a.principal.tenant,
        input: a.input,
        text: a.text,
        plan: p,
        served: {
          model: served.model.id,
          node: res.node,
          region: res.region,
          status: res.status,
          latencyMs: performance.now() - run.started,
          attempts: served.attempts.length,
          headers: res.headers,
          audio: Buffer.isBuffer(res.body) ? res.body : undefined,
          ...(teed ? { audioLater: teed.audio } : {}),
        },
      },
      (err) => deps.log.warn({ trace_id: a.traceId, err: (err as Error)?.message }, 'shadow failed'),
    );
  return teed?.body ?? res.body;
}

/** The client's answer; recorded now for a buffered body, when the stream ends otherwise. */
function respond(a: Admitted, served: Served, body: Buffer | Readable, run: RequestRun): Reply {
  const res = served.response;
  const headers: Record<string, string> = {
    'content-type': AUDIO_TYPES[a.input.format],
    'x-trace-id': a.traceId,
    'x-model': served.model.id,
    'x-region': res.region,
    'x-node': res.node,
    'x-attempts': String(served.attempts.length),
  };
  for (const h of PASS_HEADERS) if (res.headers[h] !== undefined) headers[h] = res.headers[h];
  if (run.rec.degraded) headers['x-degraded'] = run.rec.degraded;
  if (a.truncated) headers['x-truncated'] = 'true';
  if (res.contentLength !== undefined) headers['content-length'] = String(res.contentLength);
  if (Buffer.isBuffer(body)) {
    run.finish(200);
    return { kind: 'audio', headers, body };
  }
  return {
    kind: 'stream',
    headers,
    body,
    expected: res.contentLength,
    done: (err) => {
      if (err === undefined) run.finish(200);
      else run.finish(200, new GatewayError('VOX_ERR_CLIENT_CLOSED', 'stream ended early', { cause: err }));
    },
  };
}

/** Any stage's error as the client's answer, recorded with its code. */
function failed(deps: RequestPathDeps, err: unknown, flavor: ErrorFlavor, run: RequestRun): Reply {
  // A deadline the client chose shorter than its plan's ran out: its choice, not a failure of
  // the service (answered 504 all the same; recorded as client_gone).
  if (run.clientDeadline && toGatewayError(err).code === 'VOX_ERR_DEADLINE_EXCEEDED') err = new GatewayError('VOX_ERR_CLIENT_DEADLINE', toGatewayError(err).message, { cause: err });
  const out = errorResponse(err, run.rec.traceId, flavor);
  if (out.error.code === 'VOX_ERR_INTERNAL') deps.log.error({ trace_id: run.rec.traceId, err }, 'internal error');
  run.finish(out.status, out.error);
  return errorReply(out);
}

/**
 * @example
 * const path = createRequestPath(deps);
 * app.post('/v1/synthesize', (c) => path.web(c, 'native'));
 */
export function createRequestPath(deps: RequestPathDeps): RequestPath {
  const { log } = deps;
  // The access line holds only fields this module sets (ids, names, numbers: never a key or an
  // Authorization header), so it skips the root logger's redaction, whose `*.key` wildcard
  // visited every field of every line (1.4 % of the gateway's CPU in a bench profile).
  const accessLog = log.child({}, { redact: [] });

  async function serve(client: ClientSide, flavor: ErrorFlavor): Promise<Reply> {
    const traceId = traceIdFrom(client.header('traceparent'));
    const run = new RequestRun({ traceId, route: client.path, status: 0, attempts: 0, costMs: 0 }, performance.now(), deps, accessLog);
    try {
      const admitted = await admit(deps, client, flavor, run);
      const planned = plan(deps, client, admitted, run.rec);
      const served = await dispatchPlan(deps, admitted, planned, run.rec);
      const body = shadow(deps, admitted, planned, served, run);
      return respond(admitted, served, body, run);
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
        writeReply(outgoing, errorReply(errorResponse(new GatewayError('VOX_ERR_INTERNAL', undefined, { cause: err }), '-', flavor)), deps.bodies);
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
