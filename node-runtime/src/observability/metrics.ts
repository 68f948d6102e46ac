/**
 * The runtime's Prometheus metrics, on a registry owned by one runtime (so tests can run several
 * in one process without collisions).
 * @module
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createRuntimeMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
  return {
    registry,
    requests: new Counter({
      name: 'voxgate_node_requests_total',
      help: 'Synthesis requests by outcome code and model',
      labelNames: ['code', 'model'] as const,
      registers: [registry],
    }),
    clientGone: new Counter({
      name: 'voxgate_node_client_gone_total',
      help: 'Requests whose client left (mid-body, broken framing, or while waiting); never server errors',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: 'voxgate_node_queue_wait_seconds',
      help: 'Time a request waited for an inference slot',
      buckets: latencyBuckets,
      registers: [registry],
    }),
    compute: new Histogram({
      name: 'voxgate_node_compute_seconds',
      help: 'Engine time per synthesis',
      labelNames: ['model'] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    audioSeconds: new Counter({
      name: 'voxgate_node_audio_seconds_total',
      help: 'Seconds of audio produced',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'voxgate_node_queue_depth', help: 'Requests waiting for a slot', registers: [registry] }),
    inflight: new Gauge({ name: 'voxgate_node_inflight', help: 'Requests holding a slot', registers: [registry] }),
    packReloads: new Counter({
      name: 'voxgate_node_pack_reloads_total',
      help: 'Model pack loads by result (loaded, unchanged, refused)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type RuntimeMetrics = ReturnType<typeof createRuntimeMetrics>;
