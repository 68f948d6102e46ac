/**
 * Waits `ms` unless the signal fires first, in which case it rejects with the signal's reason
 * and frees its timer at once: a simulated inference must stop holding its slot the moment the
 * deadline passes or the client leaves, exactly like a real engine that checks between steps.
 * An infinite `ms` waits for the signal alone (a stall that only the caller can end).
 * @module
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms)
      : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
