/**
 * The cancellation signals of a request (its deadline) and of each try: the part of
 * `AbortSignal` the request path uses (`aborted`, `reason`, abort listeners), without an
 * EventTarget. An `AbortSignal` satisfies `AttemptSignal` too (tests and callers may pass one).
 * Creating an AbortController and its signal was the costliest web-API call left per request
 * (bench profile, issue 8).
 * @module
 */

export interface AttemptSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class TrySignal implements AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /**
   * Aborts once: later calls are ignored. Listeners run once each, in order; one that throws
   * does not stop the others, and its error is rethrown later, as an EventTarget would.
   */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const l of listeners)
      try {
        l();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
  }
}
