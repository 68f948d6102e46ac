/**
 * The streaming path's counters, registered on the gateway's registry (one set per registry, so
 * several gateways in one test process keep theirs apart).
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface StreamMetrics {
  /** Segments resumed after a mid-stream node failure, by model and how (offset, restart_held, splice). */
  resumes: Pick<Counter<'model' | 'how'>, 'inc'>;
  /** Model switches inside one response. */
  modelSwitches: Pick<Counter<'from' | 'to'>, 'inc'>;
  /** Responses cut because the client stopped reading. */
  readerStalls: Pick<Counter, 'inc'>;
  /** Segments synthesised, by model. */
  segments: Pick<Counter<'model'>, 'inc'>;
  /** PCM bytes all streamed responses hold between nodes and clients now. */
  bufferedBytes: Pick<Gauge, 'inc' | 'dec'>;
}

const byRegistry = new WeakMap<Registry, StreamMetrics>();

/**
 * @example
 * const m = streamMetrics(gatewayMetrics.registry); m.readerStalls.inc();
 */
export function streamMetrics(registry: Registry): StreamMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  const r = [registry];
  m = {
    resumes: new Counter({
      name: 'voxgate_gateway_stream_resumes_total',
      help: 'Segments resumed on another node after a mid-stream failure',
      labelNames: ['model', 'how'],
      registers: r,
    }),
    modelSwitches: new Counter({
      name: 'voxgate_gateway_stream_model_switches_total',
      help: 'Model switches inside one streamed response',
      labelNames: ['from', 'to'],
      registers: r,
    }),
    readerStalls: new Counter({
      name: 'voxgate_gateway_stream_reader_stalls_total',
      help: 'Streamed responses cut because the client stopped reading',
      registers: r,
    }),
    segments: new Counter({ name: 'voxgate_gateway_stream_segments_total', help: 'Segments synthesised', labelNames: ['model'], registers: r }),
    bufferedBytes: new Gauge({
      name: 'voxgate_gateway_stream_buffered_bytes',
      help: 'PCM bytes streamed responses hold between nodes and clients',
      registers: r,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}
