/**
 * Liveness, readiness and load. These never touch the engines or the scheduler's queue, so they
 * answer in microseconds even when every slot is busy.
 * @module
 */
import type { Context } from 'hono';
import { OUTPUT_SAMPLE_RATES } from '../audio/sample-rate.ts';
import type { ModelRegistry } from '../packs/registry.ts';
import type { Ewma } from '../scheduler/ewma.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { EventLoopMonitor } from '../observability/event-loop.ts';
import type { RuntimeEnv } from './context.ts';

export interface HealthDeps {
  nodeId: string;
  region: string;
  registry: ModelRegistry;
  scheduler: Scheduler;
  rtf: Ewma;
  eventLoop: EventLoopMonitor;
  isReady(): boolean;
  isDraining(): boolean;
}

export function createHealthHandlers(deps: HealthDeps) {
  return {
    healthz: function healthz(c: Context<RuntimeEnv>) {
      return c.json({ status: 'ok' });
    },
    readyz: function readyz(c: Context<RuntimeEnv>) {
      const ready = deps.isReady();
      return c.json({ ready, draining: deps.isDraining() }, ready ? 200 : 503);
    },
    load: function load(c: Context<RuntimeEnv>) {
      const memory = process.memoryUsage();
      return c.json({
        node_id: deps.nodeId,
        region: deps.region,
        ready: deps.isReady(),
        draining: deps.isDraining(),
        ...deps.scheduler.load(),
        rtf_ewma: Math.round(deps.rtf.value() * 10_000) / 10_000,
        event_loop_delay: deps.eventLoop.snapshot(),
        models: deps.registry.describe(),
        // A synthesis request may ask for any rate in this range (`sample_rate`); a node without
        // this field answers at its engines' rates and the gateway resamples.
        output_sample_rates: OUTPUT_SAMPLE_RATES,
        memory: {
          rss: memory.rss,
          heap_used: memory.heapUsed,
          heap_total: memory.heapTotal,
          external: memory.external,
          array_buffers: memory.arrayBuffers,
        },
      });
    },
  };
}
