/**
 * Time, injected. Layers take a `Clock` instead of calling `Date.now`/`setTimeout`, so tests can
 * drive time (Envoy `TimeSource`, linkerd's paused tokio clock).
 * @module
 */
import type { AttemptSignal } from '../core/try-signal.ts';

/** A pending `Clock.timer`; `clearTimer` cancels it. Opaque: a Node timeout on the system clock. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms` (the per-try timer, the request deadline, the canary call). */
  timer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Resolves after `ms`, or rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: AttemptSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // setTimeout/clearTimeout themselves: the hot path pays no wrapper object per timer.
  timer: (ms, fn) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/** A manual clock for unit tests: `advance(ms)` moves time; sleeps resolve and timers fire when due. */
export class ManualClock implements Clock {
  private t: number;
  private waiters: { at: number; resolve: () => void }[] = [];
  private timers = new Map<object, { at: number; fn: () => void }>();
  constructor(start = 1_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  timer(ms: number, fn: () => void): TimerHandle {
    const handle = {} as TimerHandle;
    this.timers.set(handle, { at: this.t + Math.max(0, ms), fn });
    return handle;
  }
  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle);
  }
  /** Timers not yet fired nor cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }
  sleep(ms: number, signal?: AttemptSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.waiters.push({ at: this.t + ms, resolve });
    });
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.waiters.filter((w) => w.at <= this.t);
    this.waiters = this.waiters.filter((w) => w.at > this.t);
    for (const w of due) w.resolve();
    for (const [handle, t] of [...this.timers]) {
      if (t.at > this.t) continue;
      this.timers.delete(handle);
      t.fn();
    }
  }
}
