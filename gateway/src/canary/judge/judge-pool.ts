/**
 * The judge's worker pool (piscina). The gateway's event loop never decodes, resamples or runs
 * ONNX: every pair goes to a worker thread. The pool is small (default one thread: judging is
 * background work and must not take the cores client requests need) and its queue is bounded —
 * a pair that finds it full is dropped and counted, never queued without limit.
 *
 * Owner: `CanaryService`; `close()` waits for running tasks, `destroy()` stops at once.
 * @module
 */
import { Piscina } from 'piscina';
import type { JudgeTask, PairMetrics } from './pair-metrics.ts';

export interface JudgePoolOptions {
  threads: number;
  queue: number;
  asr: 'auto' | 'off';
}

export const JUDGE_BACKLOG = 'VOX_CANARY_JUDGE_BACKLOG';

export class JudgeQueueFull extends Error {
  readonly code = JUDGE_BACKLOG;
}

export class JudgePool {
  private pool: Piscina<JudgeTask, PairMetrics> | undefined;
  private pending = 0;

  /**
   * @example
   * const judge = new JudgePool({ threads: 1, queue: 32, asr: 'auto' });
   * const metrics = await judge.run(task);
   * await judge.close();
   */
  constructor(private readonly options: JudgePoolOptions) {
    if (!(options.threads >= 1) || !(options.queue >= 0)) throw new RangeError('judge pool: threads ≥ 1 and queue ≥ 0');
    this.pool = new Piscina({
      filename: new URL('./judge-worker.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads,
      // Workers keep their ONNX session between pairs; an idle pool gives its threads back.
      idleTimeout: 60_000,
      workerData: { asr: options.asr },
      // No inherited preloads: judge-worker.mjs brings its own TypeScript loader, and a parent's
      // `--import some.ts` (test harnesses do this) would fail inside the worker before it.
      execArgv: [],
    });
  }

  /** Tasks queued or running. */
  backlog(): number {
    return this.pending;
  }

  async run(task: JudgeTask): Promise<PairMetrics> {
    const pool = this.pool;
    if (!pool) throw new Error('judge pool closed');
    if (this.pending >= this.options.threads + this.options.queue) throw new JudgeQueueFull('judge backlog full');
    this.pending++;
    try {
      return await pool.run(task);
    } finally {
      this.pending--;
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  async destroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }
}
