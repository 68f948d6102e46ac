/**
 * Event-loop delay of the runtime's main thread over a rolling window: the figure that says
 * whether health checks and admission stay responsive while inference saturates every slot.
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class EventLoopMonitor {
  #current: IntervalHistogram;
  #previous: IntervalHistogram | undefined;
  readonly #timer: NodeJS.Timeout;

  /** Percentiles cover the last one to two windows. */
  constructor(windowMs = 10_000) {
    this.#current = monitorEventLoopDelay({ resolution: 5 });
    this.#current.enable();
    this.#timer = setInterval(() => this.#rotate(), windowMs).unref();
  }

  snapshot(): { p50_ms: number; p99_ms: number; max_ms: number } {
    const h = this.#current.count > 0 || !this.#previous ? this.#current : this.#previous;
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    return { p50_ms: ms(h.percentile(50)), p99_ms: ms(h.percentile(99)), max_ms: ms(h.max) };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#current.disable();
    this.#previous?.disable();
  }

  #rotate(): void {
    this.#previous?.disable();
    this.#previous = this.#current;
    this.#current = monitorEventLoopDelay({ resolution: 5 });
    this.#current.enable();
  }
}
