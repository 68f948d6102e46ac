/**
 * The gateway's Prometheus metrics, on a registry owned by one gateway instance (so several
 * gateways in one test process do not collide). Names follow `voxgate_gateway_*`; each metric
 * says which layer updates it.
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** Admitted requests in progress, read at scrape time (a gauge set on every request and every
   * finish hashed its labels twice per request for a value only a scrape reads). */
  inFlight?: () => number;
}

export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  const { inFlight } = options;
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'voxgate_gateway_' });
  const r = [registry];
  return {
    registry,
    /** record: every finished request. */
    requests: new Counter({
      name: 'voxgate_gateway_requests_total',
      help: 'Requests by status, plan, model, region and error code',
      labelNames: ['status', 'plan', 'model', 'region', 'code'],
      registers: r,
    }),
    /** record: 5xx answers (the number the project exists to keep at zero, 503/504 included);
     * a client that left (client_gone, logged as 499) is never one. */
    responses5xx: new Counter({ name: 'voxgate_gateway_responses_5xx_total', help: '5xx responses by code', labelNames: ['code'], registers: r }),
    /** record: every finished request by outcome class (errors/codes.ts) and wire code (`ok` when served). */
    outcomes: new Counter({
      name: 'voxgate_gateway_outcomes_total',
      help: 'Finished requests by outcome class (served, client_error, client_gone, shed, service_failure) and code',
      labelNames: ['outcome', 'code'],
      registers: r,
    }),
    duration: new Histogram({
      name: 'voxgate_gateway_request_duration_seconds',
      help: 'Request duration at the gateway',
      labelNames: ['plan', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: r,
    }),
    /** record: duration and outcome by input length class (`inputLengthClass`), the seed's third dimension after error code and node. */
    durationByInput: new Histogram({
      name: 'voxgate_gateway_request_duration_by_input_seconds',
      help: 'Request duration by input length class (characters) and outcome',
      labelNames: ['input_len', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    /** dispatch: node-reported queue time (`x-queue-ms`). */
    nodeQueue: new Histogram({
      name: 'voxgate_gateway_node_queue_seconds',
      help: 'Time a request waited for a slot on the node',
      labelNames: ['node'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: r,
    }),
    inflight: new Gauge({
      name: 'voxgate_gateway_inflight_requests',
      help: 'Admitted requests in progress',
      registers: r,
      ...(inFlight
        ? {
            collect(this: Gauge) {
              this.set(inFlight());
            },
          }
        : {}),
    }),
    /** admit: refusals by reason. */
    admissionRejections: new Counter({
      name: 'voxgate_gateway_admission_rejections_total',
      help: 'Requests refused at admission',
      labelNames: ['reason', 'plan'],
      registers: r,
    }),
    /** plan: degraded answers by reason. */
    degraded: new Counter({
      name: 'voxgate_gateway_degraded_total',
      help: 'Requests served by a cheaper model or another region',
      labelNames: ['reason'],
      registers: r,
    }),
    failedOver: new Counter({
      name: 'voxgate_gateway_failed_over_total',
      help: 'Requests served outside the home region',
      labelNames: ['from', 'to'],
      registers: r,
    }),
    /** retry: attempts and the budget. */
    retries: new Counter({
      name: 'voxgate_gateway_retries_total',
      help: 'Retries by outcome (allowed, budget_exhausted, reselect)',
      labelNames: ['outcome'],
      registers: r,
    }),
    retryBudgetActive: new Gauge({
      name: 'voxgate_gateway_retry_budget_active_retries',
      help: 'Retries in progress (bounded by the retry budget)',
      registers: r,
    }),
    /** breaker: state per node, 0 closed, 1 half_open, 2 open. */
    breakerState: new Gauge({
      name: 'voxgate_gateway_breaker_state',
      help: 'Circuit breaker state per node (0 closed, 1 half_open, 2 open)',
      labelNames: ['node'],
      registers: r,
    }),
    breakerTransitions: new Counter({
      name: 'voxgate_gateway_breaker_transitions_total',
      help: 'Breaker state changes',
      labelNames: ['node', 'to'],
      registers: r,
    }),
    /** health: nodes healthy per region. */
    healthyNodes: new Gauge({ name: 'voxgate_gateway_healthy_nodes', help: 'Healthy nodes per region', labelNames: ['region'], registers: r }),
    /** health: nodes configured per region, so capacity alerts divide healthy by total. */
    regionNodes: new Gauge({
      name: 'voxgate_gateway_region_nodes',
      help: 'Nodes configured per region (healthy or not)',
      labelNames: ['region'],
      registers: r,
    }),
    ejections: new Counter({
      name: 'voxgate_gateway_outlier_ejections_total',
      help: 'Outlier ejections by node (enforced)',
      labelNames: ['node'],
      registers: r,
    }),
    panics: new Counter({ name: 'voxgate_gateway_panic_routing_total', help: 'Routing decisions made in panic mode', registers: r }),
    /** config: reload results. */
    configReloads: new Counter({
      name: 'voxgate_gateway_config_reloads_total',
      help: 'Config reloads by result (applied, refused)',
      labelNames: ['result'],
      registers: r,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

/** Label for an input length: few classes, so the label set stays small whatever clients send. */
export function inputLengthClass(chars: number | undefined): string {
  if (chars === undefined) return 'none';
  if (chars <= 50) return '0-50';
  if (chars <= 200) return '51-200';
  if (chars <= 1000) return '201-1000';
  return '1001+';
}

/** What the shared-state metrics read at scrape time (shared-state/redis-connection.ts, shared-rate-limiter.ts). */
export interface SharedStateReadings {
  replicaId: string;
  up: () => boolean;
  errors: () => number;
  replicas: () => number;
  decisions: () => { shared: number; fallback: number };
}

/**
 * Metrics of the shared state (Redis), registered only when `shared_state` is configured: with
 * the embedded store they are absent, so the outage alert never sees a series to fire on. All are
 * read at scrape time from plain counters the limiter keeps (no label hashing per request).
 */
export function registerSharedStateMetrics(registry: Registry, s: SharedStateReadings): void {
  const r = [registry];
  new Gauge({
    name: 'voxgate_gateway_shared_state_up',
    help: 'Whether the shared state store (Redis) answers: 1 up, 0 down',
    registers: r,
    collect() {
      this.set(s.up() ? 1 : 0);
    },
  });
  new Counter({
    name: 'voxgate_gateway_shared_state_errors_total',
    help: 'Shared state commands that failed or timed out',
    registers: r,
    collect() {
      this.reset();
      this.inc(s.errors());
    },
  });
  new Gauge({
    name: 'voxgate_gateway_shared_state_replicas',
    help: 'Gateway replicas sharing the store, as this replica last saw them',
    registers: r,
    collect() {
      this.set(s.replicas());
    },
  });
  // One series per replica: dashboards join per-replica metrics (breakers, health, outliers) on it.
  new Gauge({
    name: 'voxgate_gateway_replica_info',
    help: 'This gateway replica (value 1), labelled with its id in the shared store',
    labelNames: ['replica'],
    registers: r,
    collect() {
      this.set({ replica: s.replicaId }, 1);
    },
  });
  new Counter({
    name: 'voxgate_gateway_rate_limit_decisions_total',
    help: 'Tenant rate limit decisions by source: shared (Redis) or fallback (this replica’s share while Redis is out)',
    labelNames: ['source'],
    registers: r,
    collect() {
      const d = s.decisions();
      this.reset();
      this.inc({ source: 'shared' }, d.shared);
      this.inc({ source: 'fallback' }, d.fallback);
    },
  });
}
