/**
 * Time, injected. Everything that reads the time or waits for it takes a `Clock` instead of
 * calling `Date.now`/`setTimeout`, so tests drive time with `ManualClock` instead of waiting on a
 * loaded machine (Envoy `TimeSource`, linkerd's paused tokio clock).
 * @module
 */
import { TrySignal, type AttemptSignal } from '../core/try-signal.ts';

/** A pending timer, to cancel with `Clock.clearTimer`. Opaque: only its clock knows what it is. */
export interface TimerHandle {
  readonly __timerHandle: never;
}

/** A signal that aborts by itself after a while (`Clock.timeoutSignal`). */
export interface TimeoutSignal extends AttemptSignal {
  /** Stops the timer (the signal then never aborts by itself); idempotent. */
  dispose(): void;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: AttemptSignal): Promise<void>;
  /** Runs `fn` once after `ms` (setTimeout on this clock). */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a timer that already ran or was cancelled is ignored (clearTimeout). */
  clearTimer(timer: TimerHandle): void;
  /** A signal that aborts with `reason()` after `ms` (AbortSignal.timeout on this clock). */
  timeoutSignal(ms: number, reason: () => unknown): TimeoutSignal;
}

/** One TrySignal and its timer: no AbortController, one timer, disposed by its owner. */
class ClockTimeoutSignal extends TrySignal implements TimeoutSignal {
  readonly #clock: Clock;
  readonly #timer: TimerHandle;

  constructor(clock: Clock, ms: number, reason: () => unknown) {
    super();
    this.#clock = clock;
    this.#timer = clock.setTimer(() => this.abort(reason()), ms);
  }

  dispose(): void {
    this.#clock.clearTimer(this.#timer);
  }
}

function sleepOn(clock: Clock, ms: number, signal: AttemptSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimer(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimer(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, signal);
  },
  // The handle is Node's own Timeout: no wrapper object on the request path.
  setTimer: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimer: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout),
  timeoutSignal(ms, reason) {
    return new ClockTimeoutSignal(systemClock, ms, reason);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock for tests: time stands still until the test moves it. `advance(ms)` runs every timer
 * that falls due on the way, in order, each at its own time; `tick(ms)` does the same and lets
 * promise callbacks run between timers, which is what async code under test needs.
 */
export class ManualClock implements Clock {
  #t: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(start = 1_000_000) {
    this.#t = start;
  }

  now(): number {
    return this.#t;
  }

  sleep(ms: number, signal?: AttemptSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.#t + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return timer as unknown as TimerHandle;
  }

  clearTimer(timer: TimerHandle): void {
    const i = this.#timers.indexOf(timer as unknown as ManualTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  timeoutSignal(ms: number, reason: () => unknown): TimeoutSignal {
    return new ClockTimeoutSignal(this, ms, reason);
  }

  /** Timers waiting to run. */
  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, running each timer due on the way at its own time. */
  advance(ms: number): void {
    const until = this.#t + ms;
    for (let next = this.#due(until); next; next = this.#due(until)) {
      this.#t = next.at;
      next.fn();
    }
    this.#t = until;
  }

  /** As `advance`, letting pending promise callbacks (and what they schedule) run before and after each timer. */
  async tick(ms: number): Promise<void> {
    const until = this.#t + ms;
    await settle();
    for (let next = this.#due(until); next; next = this.#due(until)) {
      this.#t = next.at;
      next.fn();
      await settle();
    }
    this.#t = until;
    await settle();
  }

  /** Removes and returns the earliest timer due by `until` (ties: first set, first run). */
  #due(until: number): ManualTimer | undefined {
    let best = -1;
    for (let i = 0; i < this.#timers.length; i++) {
      const t = this.#timers[i]!;
      if (t.at > until) continue;
      const b = this.#timers[best];
      if (!b || t.at < b.at || (t.at === b.at && t.seq < b.seq)) best = i;
    }
    return best < 0 ? undefined : this.#timers.splice(best, 1)[0];
  }
}

/** Lets queued promise callbacks run: a macrotask turn, after every microtask queued so far. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
