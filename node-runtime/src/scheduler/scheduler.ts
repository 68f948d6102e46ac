/**
 * Inference admission for one node: a fixed number of slots and a bounded FIFO wait queue.
 *
 * Invariants:
 * - A request is refused (`queue_full`, 503 + Retry-After) at arrival or never: once queued it
 *   either gets a slot or leaves because its own signal fired (deadline or client gone).
 * - A request whose signal fired while queued never reaches the engine.
 * - Every granted slot is returned exactly once (the release function is idempotent).
 * @module
 */
import { RuntimeError } from '../errors/runtime-error.ts';
import { monotonicClock, type Clock } from '../lifecycle/clock.ts';
import { Ewma } from './ewma.ts';

export interface SchedulerOptions {
  slots: number;
  queueLimit: number;
  clock?: Clock;
}

export interface Slot {
  /** Milliseconds spent waiting in the queue. */
  queuedMs: number;
  release(): void;
}

interface Waiter {
  grant(): void;
  enqueuedAt: number;
}

export interface SchedulerLoad {
  slots: number;
  inflight: number;
  queue_depth: number;
  queue_limit: number;
  latency_ewma_ms: number;
  queue_wait_ewma_ms: number;
  /**
   * inflight / slots. For an engine that batches its decode steps (ChatTTS: batch size = slots),
   * this is how full the batch is.
   */
  batch_occupancy: number;
}

export class Scheduler {
  readonly #slots: number;
  readonly #queueLimit: number;
  readonly #clock: Clock;
  readonly #queue: Waiter[] = [];
  #inflight = 0;
  readonly #slotMs = new Ewma();
  readonly #waitMs = new Ewma();

  constructor(options: SchedulerOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError('slots must be a positive integer');
    if (!Number.isInteger(options.queueLimit) || options.queueLimit < 0) throw new RangeError('queueLimit must be a non-negative integer');
    this.#slots = options.slots;
    this.#queueLimit = options.queueLimit;
    this.#clock = options.clock ?? monotonicClock;
  }

  /**
   * Waits for a slot. Rejects with `queue_full` at once when the queue is full, or with
   * `signal.reason` when the signal fires first; in both cases no slot is held.
   */
  acquire(signal: AbortSignal): Promise<Slot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const start = this.#clock.nowMs();
    if (this.#inflight < this.#slots && this.#queue.length === 0) {
      this.#inflight++;
      return Promise.resolve(this.#slot(start));
    }
    if (this.#queue.length >= this.#queueLimit) {
      return Promise.reject(new RuntimeError('queue_full', 'all inference slots are busy and the wait queue is full', { retryAfterS: this.retryAfterS() }));
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        enqueuedAt: start,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#slot(start));
        },
      };
      const onAbort = (): void => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Seconds until a queued request could expect a slot: what `Retry-After` tells a refused caller. */
  retryAfterS(): number {
    const perSlotMs = this.#slotMs.value(1000);
    const waitMs = ((this.#queue.length + 1) / this.#slots) * perSlotMs;
    return Math.min(30, Math.max(1, Math.ceil(waitMs / 1000)));
  }

  load(): SchedulerLoad {
    return {
      slots: this.#slots,
      inflight: this.#inflight,
      queue_depth: this.#queue.length,
      queue_limit: this.#queueLimit,
      latency_ewma_ms: round(this.#slotMs.value()),
      queue_wait_ewma_ms: round(this.#waitMs.value()),
      batch_occupancy: Math.round((this.#inflight / this.#slots) * 1000) / 1000,
    };
  }

  /** True when nothing holds or waits for a slot: what a graceful drain waits for. */
  idle(): boolean {
    return this.#inflight === 0 && this.#queue.length === 0;
  }

  #slot(enqueuedAt: number): Slot {
    const grantedAt = this.#clock.nowMs();
    const queuedMs = grantedAt - enqueuedAt;
    this.#waitMs.observe(queuedMs);
    let released = false;
    return {
      queuedMs,
      release: () => {
        if (released) return;
        released = true;
        this.#slotMs.observe(this.#clock.nowMs() - grantedAt);
        const next = this.#queue.shift();
        // Hand the slot straight to the next waiter so a new arrival cannot overtake the queue.
        if (next) next.grant();
        else this.#inflight--;
      },
    };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
