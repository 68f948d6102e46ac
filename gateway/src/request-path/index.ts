/**
 * The request path, composed here and nowhere else:
 *
 *   admit (draining → auth → body → rate limit → concurrency → text policy → deadline)
 *   → plan (language, model by plan and load, voice, region order)
 *   → dispatch (retry → attempt timeout → balance → breaker → undici pool)
 *   → shadow (observed just before the response; what it starts is never awaited)
 *   → respond (respond.ts) + record (one log line, metrics)
 *
 * It is entered from the gateway's Node listener (`node`, http/listener.ts) or the Hono app
 * (`web`); client-side.ts reads the request either way.
 * docs/request-path.md draws it with the status each stage can fail with.
 * @module
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config, ModelConfig } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, toGatewayError, type ErrorFlavor } from '../errors/to-response.ts';
import type { RetryBudget } from '../layers/retry/retry-budget.ts';
import type { Service } from '../layers/service.ts';
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

  constructor(
    readonly rec: RequestRecord,
    private readonly started: number,
    private readonly deps: RequestPathDeps,
    private readonly accessLog: Logger,
  ) {}

  /** Releases the slot and the deadline, then writes the one log line and the metrics. */
  finish(status: number, err?: unknown): void {
    const rec = this.rec;
    rec.status = status;
    if (err !== undefined) rec.errorCode = toGatewayError(err).wire;
    rec.costMs = performance.now() - this.started;
    this.release?.();
    this.deadline?.dispose();
    recordRequest(this.accessLog, this.deps.metrics, rec);
  }
}

const AUDIO_TYPES: Record<string, string> = { wav: 'audio/wav', pcm: 'audio/pcm' };
const PASS_HEADERS = ['x-model-version', 'x-sample-rate', 'x-audio-ms', 'x-engine'];

export interface RequestPath {
  /** From the gateway's own Node listener (http/listener.ts): no Hono, no web objects. */
  node(incoming: IncomingMessage, outgoing: ServerResponse, flavor: ErrorFlavor): void;
  /** From the Hono app: under @hono/node-server it answers on the Node response itself. */
  web(c: Context, flavor: ErrorFlavor): Promise<Response>;
}

/**
 * @example
 * const path = createRequestPath(deps);
 * app.post('/v1/synthesize', (c) => path.web(c, 'native'));
 */
export function createRequestPath(deps: RequestPathDeps): RequestPath {
  const { clock, log, metrics } = deps;
  // The access line holds only fields this module sets (ids, names, numbers: never a key or an
  // Authorization header), so it skips the root logger's redaction, whose `*.key` wildcard
  // visited every field of every line (1.4 % of the gateway's CPU in the issue 8 profile).
  const accessLog = log.child({}, { redact: [] });

  async function serve(client: ClientSide, flavor: ErrorFlavor): Promise<Reply> {
    const started = performance.now();
    const traceId = traceIdFrom(client.header('traceparent'));
    const run = new RequestRun({ traceId, route: client.path, status: 0, attempts: 0, costMs: 0 }, started, deps, accessLog);
    const rec = run.rec;

    try {
      // ── admit ──────────────────────────────────────────────────────────────
      if (deps.draining()) throw new GatewayError('VOX_ERR_DRAINING', 'gateway is shutting down', { retryAfterMs: 1000 });
      const config = deps.config();
      const principal: Principal = deps.keys().authenticate(client.header('authorization'));
      rec.tenant = principal.tenant;
      rec.plan = principal.plan;
      const planCfg = config.plans[principal.plan];
      if (!planCfg) throw new GatewayError('VOX_ERR_FORBIDDEN', `plan ${principal.plan} is not configured`);
      const json = parseJson(await client.body(config.admission.body_limit_bytes));
      const input: SynthesisInput = flavor === 'openai' ? parseOpenAi(json, config.openai_models) : parseNative(json);
      rec.inputLen = input.text.length;
      const timeoutMs = parseTimeoutHeader(client.header('x-request-timeout-ms'), config.admission.max_timeout_ms) ?? planCfg.timeout_ms;
      try {
        deps.rateLimiter.take(principal.tenant, planCfg.rate_limit);
      } catch (err) {
        metrics.admissionRejections.inc({ reason: 'rate_limit', plan: principal.plan });
        throw err;
      }
      try {
        run.release = deps.concurrency.acquire(planCfg.load_share);
      } catch (err) {
        metrics.admissionRejections.inc({ reason: 'concurrency', plan: principal.plan });
        throw err;
      }
      deps.retryBudget.deposit();
      const { text, truncated } = applyTextPolicy(input.text, planCfg.max_text_chars, planCfg.long_text);
      rec.truncated = truncated;
      const deadline = startDeadline(timeoutMs, clock);
      run.deadline = deadline;
      client.watch(deadline);

      // ── plan ───────────────────────────────────────────────────────────────
      const headerRegion = client.header('x-region');
      const home = headerRegion && deps.endpoints.regions().includes(headerRegion) ? headerRegion : config.region;
      rec.home = home;
      const now = clock.now();
      const plan: Plan = planRequest({
        input,
        planName: principal.plan,
        language: detectLanguage(text),
        home,
        regionOrder: (h) => deps.endpoints.regionsFrom(h),
        config,
        models: deps.models(),
        view: (model) => poolView(deps.endpoints, model, now, deps.models().get(model)?.pack ?? model),
        latches: deps.latches,
      });

      // ── dispatch ───────────────────────────────────────────────────────────
      const served: Served = await dispatch(deps.service, {
        traceId,
        input,
        text,
        plan,
        deadlineAt: deadline.at,
        deadline: deadline.signal,
        models: deps.models(),
      });
      const res = served.response;
      rec.model = served.model.id;
      rec.region = res.region;
      rec.node = res.node;
      rec.attempts = served.attempts.length;
      rec.attemptLog = served.attempts.length > 1 ? served.attempts : undefined;
      rec.queueMs = res.headers['x-queue-ms'] !== undefined ? Number(res.headers['x-queue-ms']) : undefined;
      if (rec.queueMs !== undefined && Number.isFinite(rec.queueMs)) metrics.nodeQueue.observe({ node: res.node }, rec.queueMs / 1000);
      rec.degraded = served.degraded.length > 0 ? served.degraded.join(',') : undefined;

      // ── shadow (observed before the response is written; never awaited) ────
      // A streamed body is teed for the shadow hook only when it asks; the client pulls the tee.
      const shadow = deps.shadow();
      const teed = !Buffer.isBuffer(res.body) && shadow.captureStreams?.(text, plan.planName) ? teeBody(res.body, SHADOW_CAPTURE_MAX_BYTES) : undefined;
      if (!shadow.idle?.())
        fireShadow(
          shadow,
          {
            traceId,
            tenant: principal.tenant,
            input,
            text,
            plan,
            served: {
              model: served.model.id,
              node: res.node,
              region: res.region,
              status: res.status,
              latencyMs: performance.now() - started,
              attempts: served.attempts.length,
              headers: res.headers,
              audio: Buffer.isBuffer(res.body) ? res.body : undefined,
              ...(teed ? { audioLater: teed.audio } : {}),
            },
          },
          (err) => log.warn({ trace_id: traceId, err: (err as Error)?.message }, 'shadow failed'),
        );

      // ── respond + record ───────────────────────────────────────────────────
      const headers: Record<string, string> = {
        'content-type': AUDIO_TYPES[input.format] ?? 'application/octet-stream',
        'x-trace-id': traceId,
        'x-model': served.model.id,
        'x-region': res.region,
        'x-node': res.node,
        'x-attempts': String(served.attempts.length),
      };
      for (const h of PASS_HEADERS) if (res.headers[h] !== undefined) headers[h] = res.headers[h];
      if (rec.degraded) headers['x-degraded'] = rec.degraded;
      if (truncated) headers['x-truncated'] = 'true';
      if (res.contentLength !== undefined) headers['content-length'] = String(res.contentLength);
      if (Buffer.isBuffer(res.body)) {
        run.finish(200);
        return { kind: 'audio', headers, body: res.body };
      }
      return {
        kind: 'stream',
        headers,
        body: teed?.body ?? res.body,
        expected: res.contentLength,
        done: (err) => {
          if (err === undefined) run.finish(200);
          else run.finish(499, new GatewayError('VOX_ERR_CLIENT_CLOSED', 'stream ended early', { cause: err }));
        },
      };
    } catch (err) {
      const out = errorResponse(err, traceId, flavor);
      if (out.error.code === 'VOX_ERR_INTERNAL') log.error({ trace_id: traceId, err }, 'internal error');
      run.finish(out.error.status === 499 ? 499 : out.status, out.error);
      return errorReply(out);
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
