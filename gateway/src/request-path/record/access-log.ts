/**
 * One log line and one set of metric updates per finished request, with the fields an operator
 * needs to see which mechanism fired: trace_id, tenant, plan, model, region, node, attempts,
 * error_code, cost_ms, input_len, queue_ms.
 *
 * The line is the one pino would write (level, time, the logger's bindings, the fields, msg), but
 * serialised here with one JSON.stringify of a flat object and written to the logger's own
 * destination: pino's generic serialiser built it from dozens of pieces, ~5 KB of garbage and 3 % of
 * the main thread per request (issue 8 profile). Its fields are ids, names and numbers, never a key or
 * an Authorization header, so there is nothing to redact.
 * @module
 */
import pino, { type DestinationStream } from 'pino';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
export interface RequestRecord {
  traceId: string;
  route: string;
  status: number;
  tenant?: string | undefined;
  plan?: string | undefined;
  model?: string | undefined;
  region?: string | undefined;
  node?: string | undefined;
  attempts: number;
  attemptLog?: { node: string; outcome: string; ms: number }[] | undefined;
  errorCode?: string | undefined;
  costMs: number;
  inputLen?: number | undefined;
  queueMs?: number | undefined;
  degraded?: string | undefined;
  truncated?: boolean | undefined;
  home?: string | undefined;
}

const INFO = 30;
const WARN = 40;

export class AccessLog {
  readonly #stream: DestinationStream;
  /** The logger's bindings as pino serialised them once (`,"svc":"gateway"`). */
  readonly #bindings: string;

  constructor(
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    // pino.symbols is pino's documented way in to a logger's stream and serialised bindings.
    const internals = log as unknown as Record<symbol, unknown>;
    this.#stream = internals[pino.symbols.streamSym] as DestinationStream;
    this.#bindings = String(internals[pino.symbols.chindingsSym] ?? '');
  }

  record(r: RequestRecord): void {
    const metrics = this.metrics;
    metrics.requests.inc({
      status: String(r.status),
      plan: r.plan ?? 'none',
      model: r.model ?? 'none',
      region: r.region ?? 'none',
      code: r.errorCode ?? 'ok',
    });
    if (r.status >= 500) metrics.responses5xx.inc({ code: r.errorCode ?? 'unknown' });
    metrics.duration.observe({ plan: r.plan ?? 'none', outcome: r.status < 400 ? 'ok' : r.status < 500 ? 'client' : 'server' }, r.costMs / 1000);
    if (r.degraded) for (const reason of r.degraded.split(',')) metrics.degraded.inc({ reason });
    if (r.region && r.home && r.region !== r.home) metrics.failedOver.inc({ from: r.home, to: r.region });

    const failed = r.status >= 500;
    if (!this.log.isLevelEnabled(failed ? 'warn' : 'info')) return;
    // undefined fields are left out, as pino leaves them out.
    const fields = JSON.stringify({
      trace_id: r.traceId,
      route: r.route,
      status: r.status,
      tenant: r.tenant,
      plan: r.plan,
      model: r.model,
      region: r.region,
      node: r.node,
      attempts: r.attempts,
      attempt_log: r.attemptLog,
      error_code: r.errorCode,
      cost_ms: Math.round(r.costMs * 10) / 10,
      input_len: r.inputLen,
      queue_ms: r.queueMs,
      degraded: r.degraded,
      truncated: r.truncated || undefined,
      msg: failed ? 'request failed' : 'request completed',
    });
    this.#stream.write(`{"level":${failed ? WARN : INFO},"time":${Date.now()}${this.#bindings},${fields.slice(1)}\n`);
  }
}
