/**
 * The mirror: the `ShadowHook` that sends a deterministic sample of served requests to each
 * configured canary. It runs after dispatch and is never awaited by the request path
 * (`fireShadow`), so it cannot delay, alter or fail the client's response; it sits after
 * admission, so it never counts against the tenant's rate limit. A sampled request is dropped
 * and counted when:
 *   - the baseline's audio streamed, was being kept for the judge (tee.ts), and broke off or was
 *     over SHADOW_CAPTURE_MAX_BYTES; a streamed baseline kept whole is mirrored once the client
 *     has it, and one the judge could not afford is neither kept nor waited for,
 *   - the canary's shadow cap (`max_concurrent`) is reached,
 *   - no canary node has headroom (canary-node.ts).
 * Every other sampled request is mirrored, so the canary's errors and latency are measured on
 * the whole sample. Its audio is judged only when the judge's CPU budget affords the pair
 * (canary/judge/judge-budget.ts), asked before sending: without a ticket neither side's audio is
 * kept (no copy of the baseline, the canary's body is read and discarded), and the pair is
 * recorded for errors and latency only. Under load that is most pairs: judging costs ~0.1 s of
 * CPU a pair, mirroring one ~0.1 ms.
 * Mirrors carry `x-shadow: 1`. They use their own undici pools, so they never hold a
 * connection the client path could use. Finished mirrors go to the sink (the canary service).
 * @module
 */
import type { ModelConfig } from '../../config/schema.ts';
import { formatTraceparent } from '../../core/traceparent.ts';
import type { CanaryConfig } from '../../config/canary.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { Logger } from '../../observability/logger.ts';
import type { EndpointSet } from '../../upstream/endpoints.ts';
import { Pools } from '../../upstream/pools.ts';
import { resolveVoice } from '../../request-path/plan/plan.ts';
import { CanaryCallError, callCanary } from './canary-call.ts';
import { canaryNode } from './canary-node.ts';
import { isSampled, sampled, textPoint } from './sampler.ts';
import { ShadowBudget } from './shadow-budget.ts';
import type { ShadowEvent, ShadowHook } from '../../request-path/shadow/shadow.ts';

export type ShadowCounter = 'eligible' | 'sampled' | 'mirrored' | 'dropped_cap' | 'dropped_no_headroom' | 'dropped_baseline_streamed';

export type CanaryAnswer =
  /** `bytes` only when the pair is to be judged (it holds a judge ticket). */
  | { ok: true; bytes?: Uint8Array; sampleRate?: number; latencyMs: number; version?: string; node: string }
  | { ok: false; code: string; timeout: boolean; latencyMs: number; node: string };

export interface MirrorOutcome {
  canary: CanaryConfig;
  traceId: string;
  text: string;
  servedModel: string;
  /** `bytes` only when the pair is to be judged. */
  baseline: { bytes?: Uint8Array; sampleRate?: number; latencyMs: number };
  answer: CanaryAnswer;
  /** The judge budget this pair reserved, settled with what judging it cost; none: errors and latency only. */
  ticket?: JudgeTicket;
}

export interface JudgeTicket {
  settle(spentMs: number): void;
}

/** Where counts and finished mirrors go; implemented by `CanaryService`. */
export interface ShadowSink {
  count(canary: string, name: ShadowCounter): void;
  /** Reserves the judge's time for one pair of `canary`, or undefined when it cannot afford one. */
  admit(canary: string): JudgeTicket | undefined;
  /** Whether `admit` would succeed now, reserving nothing: a streamed baseline is copied aside only then. */
  canJudge(canary: string): boolean;
  submit(outcome: MirrorOutcome): void;
}

export interface MirrorOptions {
  canaries: () => readonly CanaryConfig[];
  models: () => ReadonlyMap<string, ModelConfig>;
  endpoints: EndpointSet;
  home: () => string;
  clock: Clock;
  log: Logger;
  sink: ShadowSink;
  connectTimeoutMs?: number;
}

/** Largest canary body read (bytes): a runaway canary cannot exhaust the gateway's memory. */
const MAX_BODY = 32 * 1024 * 1024;
/** The span id every mirror sends (fixed: a mirror has no gateway span of its own). */
const MIRROR_SPAN_ID = '0000000000000001';

export interface Mirror extends ShadowHook {
  budget: ShadowBudget;
  close(): Promise<void>;
}

/**
 * @example
 * const mirror = createMirror({ canaries: () => config.canaries, models, endpoints, home, clock, log, sink });
 * gateway.setShadow(mirror);
 */
export function createMirror(o: MirrorOptions): Mirror {
  const budget = new ShadowBudget();
  // Shadow connections are few: at most the sum of the caps are ever in flight.
  const pools = new Pools({ connections: 8, connectTimeoutMs: o.connectTimeoutMs ?? 500 });
  const inflight = new Set<Promise<void>>();
  let closed = false;

  function observe(event: ShadowEvent): void {
    if (closed) return;
    // Every request passes here: the text's sampling point is hashed once, not once per canary.
    let point: number | undefined;
    for (const c of o.canaries()) {
      if (c.plans.length > 0 && !c.plans.includes(event.plan.planName)) continue;
      // A canary that cannot speak the text would be judged on audio it was never meant to make.
      const speaks = o.models().get(c.canary)?.languages;
      if (speaks && event.plan.languages?.some((l) => !speaks.includes(l))) continue;
      o.sink.count(c.canary, 'eligible');
      point ??= textPoint(event.text);
      if (!isSampled(point, c.sample_rate)) continue;
      o.sink.count(c.canary, 'sampled');
      const audio = event.served.audio;
      if (audio) mirror(c, event, audio);
      else if (event.served.audioLater) {
        // A streamed baseline: mirror once the client has all of it (the tee copied it aside).
        const p = event.served.audioLater.then((later) => {
          if (later && !closed) mirror(c, event, later);
          else o.sink.count(c.canary, 'dropped_baseline_streamed');
        });
        track(p);
        // Streamed and not copied (the judge could not afford it): errors and latency only.
      } else mirror(c, event, undefined);
    }
  }

  function track(p: Promise<void>): void {
    const t = p.catch((err: unknown) => o.log.warn({ err: (err as Error)?.message }, 'shadow mirror failed')).finally(() => inflight.delete(t));
    inflight.add(t);
  }

  function mirror(c: CanaryConfig, event: ShadowEvent, audio: Buffer | undefined): void {
    const model = o.models().get(c.canary);
    if (!model) return;
    const release = budget.tryAcquire(c.canary, c.max_concurrent);
    if (!release) {
      o.sink.count(c.canary, 'dropped_cap');
      return;
    }
    const node = canaryNode(o.endpoints, model.id, o.home(), o.clock.now());
    if (!node) {
      release();
      o.sink.count(c.canary, 'dropped_no_headroom');
      return;
    }
    const ticket = audio ? o.sink.admit(c.canary) : undefined;
    o.sink.count(c.canary, 'mirrored');
    const rate = Number(event.served.headers['x-sample-rate']);
    const baseline = {
      // A copy: the request path reuses the served buffer once the client has it (body-pool.ts).
      ...(ticket && audio ? { bytes: Buffer.from(audio) } : {}),
      latencyMs: event.served.latencyMs,
      ...(Number.isFinite(rate) && rate > 0 ? { sampleRate: rate } : {}),
    };
    // The node's in-flight count includes shadow requests, so the client path's balancer
    // sees the load a mirror adds to a node it shares.
    node.inflight++;
    // Sent on the next turn of the event loop, after the client's response is written
    // (observe() runs just before it, and a microtask would still come first).
    track(
      new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => send(c, model, event, node.url, node.id, ticket !== undefined))
        .then((answer) =>
          o.sink.submit({
            canary: c,
            traceId: event.traceId,
            text: event.text,
            servedModel: event.served.model,
            baseline,
            answer,
            ...(ticket ? { ticket } : {}),
          }),
        )
        .finally(() => {
          node.inflight = Math.max(0, node.inflight - 1);
          release();
        }),
    );
  }

  async function send(c: CanaryConfig, model: ModelConfig, event: ShadowEvent, url: string, nodeId: string, keepAudio: boolean): Promise<CanaryAnswer> {
    const started = performance.now();
    const body = JSON.stringify({
      text: event.text,
      model: model.pack ?? model.id,
      voice: resolveVoice(model, event.input.voice, true),
      format: 'wav',
      ...(event.input.speed !== undefined ? { speed: event.input.speed } : {}),
      ...(event.input.seed !== undefined ? { seed: event.input.seed } : {}),
    });
    const headers = {
      'content-type': 'application/json',
      'x-shadow': '1',
      'x-request-deadline-ms': String(c.timeout_ms),
      traceparent: formatTraceparent(event.traceId, MIRROR_SPAN_ID),
    };
    try {
      // Read to the end either way: the latency is the whole answer's, and the connection is reused.
      const res = await callCanary(
        pools.get(url),
        { method: 'POST', path: '/v1/synthesize', headers, body },
        { keepBody: keepAudio, maxBytes: MAX_BODY, timeoutMs: c.timeout_ms, clock: o.clock },
      );
      const latencyMs = performance.now() - started;
      if (res.status !== 200) {
        let code = `http_${res.status}`;
        try {
          const parsed = JSON.parse(res.body?.toString('utf8') ?? '') as { error?: { code?: unknown } };
          if (typeof parsed.error?.code === 'string') code = parsed.error.code;
        } catch {
          // Not the runtime's JSON envelope: the status code says enough.
        }
        return { ok: false, code, timeout: res.status === 504, latencyMs, node: nodeId };
      }
      const rate = Number(res.headers['x-sample-rate']);
      const version = res.headers['x-model-version'];
      return {
        ok: true,
        latencyMs,
        node: nodeId,
        ...(res.body ? { bytes: res.body } : {}),
        ...(Number.isFinite(rate) && rate > 0 ? { sampleRate: rate } : {}),
        ...(version ? { version } : {}),
      };
    } catch (err) {
      const e = err instanceof CanaryCallError ? err : new CanaryCallError('canary_transport_error');
      return { ok: false, code: e.code, timeout: e.timeout, latencyMs: performance.now() - started, node: nodeId };
    }
  }

  return {
    budget,
    observe,
    idle: () => closed || o.canaries().length === 0,
    captureStreams: (text, planName) =>
      !closed && o.canaries().some((c) => (c.plans.length === 0 || c.plans.includes(planName)) && sampled(text, c.sample_rate) && o.sink.canJudge(c.canary)),
    async close() {
      closed = true;
      await Promise.allSettled([...inflight]);
      await pools.close();
    },
  };
}
