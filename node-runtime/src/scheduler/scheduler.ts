/**
 * Inference admission for one node: a fixed number of slots and bounded FIFO wait queues, one per
 * priority class.
 *
 * Two classes: `interactive` (a client is listening) and `batch` (jobs, pre-synthesis: work that
 * can wait). A freed slot goes to a waiting interactive request first; batch work runs only in
 * slots no interactive request waits for, so an interactive arrival waits behind at most one
 * batch segment (the one finishing first). Batch requests are reported apart (`batch_*` in the
 * load), so the gateway's capacity signals (degradation, saturation) see interactive work only.
 *
 * Batch uses spare capacity only. On a multi-slot node it takes at most half the slots, and only
 * slots beyond the recent peak of interactive demand plus one: a slot an interactive request held
 * a moment ago is one the next interactive request will want, and a batch segment holds its slot
 * for its whole synthesis. Without that headroom a steady 80% interactive load met batch segments
 * in "free" slots all the time and queued behind them. So that a job still progresses under
 * sustained interactive load, a batch request that has waited `batchMaxWaitMs` may start when no
 * other batch work runs (one segment at a time, still never ahead of a waiting interactive one).
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

export type Priority = 'interactive' | 'batch';

export interface SchedulerOptions {
  slots: number;
  queueLimit: number;
  /** Wait-queue bound for batch work (default: the interactive bound). */
  batchQueueLimit?: number;
  /** How far back the interactive demand peak reaches (two windows at most; default 2 s). */
  batchHeadroomWindowMs?: number;
  /** Batch waiting this long may start alone despite the headroom (default 30 s). */
  batchMaxWaitMs?: number;
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

/** Per-class bookkeeping. */
class ClassQueue {
  readonly waiters: Waiter[] = [];
  inflight = 0;
  constructor(readonly limit: number) {}
}

export interface SchedulerLoad {
  slots: number;
  inflight: number;
  queue_depth: number;
  queue_limit: number;
  latency_ewma_ms: number;
  queue_wait_ewma_ms: number;
  /**
   * Busy slots (both priority classes) / slots. For an engine that batches its decode steps
   * (ChatTTS: batch size = slots), this is how full the decode batch is.
   */
  batch_occupancy: number;
  /** The `batch` priority class (jobs, pre-synthesis), reported apart from interactive work. */
  batch_inflight: number;
  batch_queue_depth: number;
}

export class Scheduler {
  readonly #slots: number;
  readonly #clock: Clock;
  readonly #interactive: ClassQueue;
  readonly #batch: ClassQueue;
  readonly #slotMs = new Ewma();
  readonly #waitMs = new Ewma();
  readonly #windowMs: number;
  readonly #batchMaxWaitMs: number;
  /** Interactive demand (in flight + waiting) peaks: this window's and the previous one's. */
  #peakNow = 0;
  #peakPrev = 0;
  #windowStart = 0;
  /** Wakes waiting batch work when the headroom may have grown without a slot being released. */
  #wake: NodeJS.Timeout | undefined;

  constructor(options: SchedulerOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError('slots must be a positive integer');
    if (!Number.isInteger(options.queueLimit) || options.queueLimit < 0) throw new RangeError('queueLimit must be a non-negative integer');
    this.#slots = options.slots;
    this.#interactive = new ClassQueue(options.queueLimit);
    this.#batch = new ClassQueue(options.batchQueueLimit ?? options.queueLimit);
    this.#clock = options.clock ?? monotonicClock;
    this.#windowMs = options.batchHeadroomWindowMs ?? 2_000;
    this.#batchMaxWaitMs = options.batchMaxWaitMs ?? 30_000;
    this.#windowStart = this.#clock.nowMs();
  }

  /**
   * Waits for a slot. Rejects with `queue_full` at once when the class's queue is full, or with
   * `signal.reason` when the signal fires first; in both cases no slot is held.
   */
  acquire(signal: AbortSignal, priority: Priority = 'interactive'): Promise<Slot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const start = this.#clock.nowMs();
    const cls = priority === 'batch' ? this.#batch : this.#interactive;
    if (cls.waiters.length === 0 && this.#canStart(priority, start)) {
      cls.inflight++;
      this.#noteDemand();
      return Promise.resolve(this.#slot(start, cls));
    }
    if (cls.waiters.length >= cls.limit) {
      return Promise.reject(
        new RuntimeError('queue_full', `all inference slots are busy and the ${priority} wait queue is full`, { retryAfterS: this.retryAfterS() }),
      );
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        enqueuedAt: start,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#slot(start, cls));
        },
      };
      const onAbort = (): void => {
        const index = cls.waiters.indexOf(waiter);
        if (index >= 0) cls.waiters.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      cls.waiters.push(waiter);
      if (priority === 'interactive') this.#noteDemand();
      else this.#scheduleWake();
    });
  }

  #busy(): number {
    return this.#interactive.inflight + this.#batch.inflight;
  }

  /** Interactive demand now, folded into the recent peak (windows rotate as time passes). */
  #noteDemand(): void {
    const now = this.#clock.nowMs();
    const elapsed = now - this.#windowStart;
    const demand = this.#interactive.inflight + this.#interactive.waiters.length;
    if (elapsed >= this.#windowMs) {
      this.#peakPrev = elapsed >= 2 * this.#windowMs ? demand : this.#peakNow;
      this.#peakNow = demand;
      this.#windowStart = now - (elapsed % this.#windowMs);
    } else if (demand > this.#peakNow) this.#peakNow = demand;
  }

  /** Batch starts only when no interactive request waits, in spare slots (see the module note). */
  #canStart(priority: Priority, now: number): boolean {
    if (this.#busy() >= this.#slots) return false;
    if (priority === 'interactive') return true;
    if (this.#interactive.waiters.length > 0) return false;
    // One slot: batch may only ever run when nothing interactive waits, or it never runs.
    if (this.#slots === 1) return true;
    this.#noteDemand();
    const peak = Math.max(this.#peakNow, this.#peakPrev);
    const cap = Math.min(Math.floor(this.#slots / 2), this.#slots - peak - 1);
    if (this.#batch.inflight < cap) return true;
    // Liveness under sustained interactive load: a long-waiting batch request runs alone.
    const oldest = this.#batch.waiters[0]?.enqueuedAt ?? now;
    return this.#batch.inflight === 0 && now - oldest >= this.#batchMaxWaitMs;
  }

  /** Batch work waits on the headroom: look again when the peak window turns or the oldest ages out. */
  #scheduleWake(): void {
    if (this.#wake || this.#batch.waiters.length === 0) return;
    const now = this.#clock.nowMs();
    const windowTurn = this.#windowStart + this.#windowMs - now;
    const aged = this.#batch.waiters[0]!.enqueuedAt + this.#batchMaxWaitMs - now;
    this.#wake = setTimeout(
      () => {
        this.#wake = undefined;
        this.#grantWaiting();
        this.#scheduleWake();
      },
      Math.max(1, Math.min(windowTurn, aged)),
    );
    this.#wake.unref();
  }

  /** Seconds until a queued request could expect a slot: what `Retry-After` tells a refused caller. */
  retryAfterS(): number {
    const perSlotMs = this.#slotMs.value(1000);
    const waitMs = ((this.#interactive.waiters.length + 1) / this.#slots) * perSlotMs;
    return Math.min(30, Math.max(1, Math.ceil(waitMs / 1000)));
  }

  load(): SchedulerLoad {
    return {
      slots: this.#slots,
      inflight: this.#interactive.inflight,
      queue_depth: this.#interactive.waiters.length,
      queue_limit: this.#interactive.limit,
      latency_ewma_ms: round(this.#slotMs.value()),
      queue_wait_ewma_ms: round(this.#waitMs.value()),
      batch_occupancy: Math.round((this.#busy() / this.#slots) * 1000) / 1000,
      batch_inflight: this.#batch.inflight,
      batch_queue_depth: this.#batch.waiters.length,
    };
  }

  /** True when nothing holds or waits for a slot: what a graceful drain waits for. */
  idle(): boolean {
    return this.#busy() === 0 && this.#interactive.waiters.length === 0 && this.#batch.waiters.length === 0;
  }

  #slot(enqueuedAt: number, cls: ClassQueue): Slot {
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
        cls.inflight--;
        this.#noteDemand();
        this.#grantWaiting();
      },
    };
  }

  /** Hands freed slots to waiters, interactive first, so a new arrival cannot overtake a queue. */
  #grantWaiting(): void {
    const now = this.#clock.nowMs();
    for (;;) {
      const interactive = this.#interactive.waiters.length > 0 && this.#canStart('interactive', now);
      const cls = interactive ? this.#interactive : this.#batch.waiters.length > 0 && this.#canStart('batch', now) ? this.#batch : undefined;
      if (!cls) break;
      cls.inflight++;
      cls.waiters.shift()!.grant();
    }
    this.#scheduleWake();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
