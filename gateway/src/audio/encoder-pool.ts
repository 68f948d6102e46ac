/**
 * The encoder worker threads (piscina). The gateway's event loop never runs a codec: each
 * response's encoder is a session on one of these threads (encoder-session.ts), many sessions
 * per thread, placed by piscina on the least busy one. The number of open sessions is bounded;
 * a response that finds the pool full is refused with 503 `busy` before it starts.
 *
 * Owner: whoever creates it (the gateway's AudioEncoding); close() lets open sessions finish,
 * destroy() ends them at once.
 * @module
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { GatewayError } from '../errors/gateway-error.ts';
import type { WorkerFormat } from './codecs/index.ts';
import type { SessionResult, SessionTask } from './encoder-session.ts';

export interface EncoderPoolOptions {
  /** Encoder threads (default: half the cores, at least 1, at most 4). */
  threads?: number;
  /** Open sessions one thread holds at most (default 64: a session is idle between chunks). */
  sessionsPerThread?: number;
}

export interface EncoderSessionHandle {
  port: MessagePort;
  /** Settles when the worker has freed the session. */
  done: Promise<SessionResult>;
}

export class EncoderPool {
  #pool: Piscina<SessionTask, SessionResult> | undefined;
  #open = 0;
  readonly threads: number;
  readonly capacity: number;

  /**
   * @example
   * const pool = new EncoderPool({ threads: 2 });
   * const { port, done } = pool.open('mp3', 24000);
   * await pool.close();
   */
  constructor(options: EncoderPoolOptions = {}) {
    const threads = options.threads ?? Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));
    const perThread = options.sessionsPerThread ?? 64;
    if (!(Number.isInteger(threads) && threads >= 1) || !(Number.isInteger(perThread) && perThread >= 1))
      throw new RangeError('encoder pool: threads and sessionsPerThread must be integers ≥ 1');
    this.threads = threads;
    this.capacity = threads * perThread;
    this.#pool = new Piscina({
      filename: new URL('./encoder-worker.mjs', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      concurrentTasksPerWorker: perThread,
      // A thread keeps its compiled codecs; idle extra threads are given back.
      idleTimeout: 60_000,
      // No inherited preloads: the worker entry brings its own TypeScript loader.
      execArgv: [],
    });
  }

  /** Sessions open now. */
  sessions(): number {
    return this.#open;
  }

  open(format: WorkerFormat, sampleRate: number): EncoderSessionHandle {
    const pool = this.#pool;
    if (!pool) throw new GatewayError('VOX_ERR_DRAINING', 'audio encoder pool is closed');
    if (this.#open >= this.capacity) throw new GatewayError('VOX_ERR_BUSY', `all ${this.capacity} audio encoder sessions are in use`, { retryAfterMs: 1000 });
    const { port1, port2 } = new MessageChannel();
    this.#open++;
    const done = pool.run({ port: port2, format, sampleRate }, { transferList: [port2] }).finally(() => this.#open--);
    // The Transform reports failures through its port; the settled task only frees the slot.
    done.catch(() => {});
    return { port: port1, done };
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }

  async destroy(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
