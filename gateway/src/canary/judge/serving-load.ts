/**
 * How busy the gateway's main thread is: event-loop utilisation (time not waiting for I/O) over
 * the last window, in cores (0..1). The main thread is where requests are served; the judge runs
 * in worker threads, so its own work does not feed back into the figure.
 * @module
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export class ServingLoad {
  #last: EventLoopUtilization = performance.eventLoopUtilization();
  #at: number;
  #cores = 0;

  /** @param windowMs how long a reading stands before the next is taken */
  constructor(
    private readonly now: () => number,
    private readonly windowMs = 2_000,
  ) {
    this.#at = now();
  }

  /** Busy share of the main thread over the last completed window. */
  cores(): number {
    const now = this.now();
    if (now - this.#at >= this.windowMs) {
      const current = performance.eventLoopUtilization();
      this.#cores = performance.eventLoopUtilization(current, this.#last).utilization;
      this.#last = current;
      this.#at = now;
    }
    return this.#cores;
  }
}
