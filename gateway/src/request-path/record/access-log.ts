/**
 * One log line and one set of metric updates per finished request, with the fields an operator
 * needs to see which mechanism fired: trace_id, tenant, plan, model, region, node, attempts,
 * error_code, outcome, cost_ms, input_len, queue_ms.
 * @module
 */
import type { OutcomeClass } from '../../errors/codes.ts';
import type { Logger } from '../../observability/logger.ts';
import { inputLengthClass, type GatewayMetrics } from '../../observability/metrics.ts';

export interface RequestRecord {
  traceId: string;
  route: string;
  status: number;
  /** Set when the request finishes (errors/classify.ts `outcomeOf`). */
  outcome?: OutcomeClass | undefined;
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

export function recordRequest(log: Logger, metrics: GatewayMetrics, r: RequestRecord): void {
  metrics.requests.inc({
    status: String(r.status),
    plan: r.plan ?? 'none',
    model: r.model ?? 'none',
    region: r.region ?? 'none',
    code: r.errorCode ?? 'ok',
  });
  metrics.outcomes.inc({ outcome: r.outcome ?? 'served', code: r.errorCode ?? 'ok' });
  if (r.status >= 500 && r.outcome !== 'client_gone') metrics.responses5xx.inc({ code: r.errorCode ?? 'unknown' });
  const outcome = r.status < 400 ? 'ok' : r.status < 500 ? 'client' : 'server';
  metrics.duration.observe({ plan: r.plan ?? 'none', outcome }, r.costMs / 1000);
  metrics.durationByInput.observe({ input_len: inputLengthClass(r.inputLen), outcome }, r.costMs / 1000);
  if (r.degraded) for (const reason of r.degraded.split(',')) metrics.degraded.inc({ reason });
  if (r.region && r.home && r.region !== r.home) metrics.failedOver.inc({ from: r.home, to: r.region });
  const line = {
    trace_id: r.traceId,
    route: r.route,
    status: r.status,
    outcome: r.outcome,
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
  };
  if (r.status >= 500) log.warn(line, 'request failed');
  else log.info(line, 'request completed');
}
