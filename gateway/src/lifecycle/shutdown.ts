/**
 * Graceful shutdown in reverse order of creation: stop admitting (readyz false, new requests 503
 * `draining`) → wait for in-flight requests (bounded) → stop health checks and breakers → close
 * pools. `close()` is idempotent: every caller gets the same promise.
 * @module
 */
import type { Clock } from './clock.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

export function shutdownSequence(steps: ShutdownStep[], onError: (name: string, err: unknown) => void): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      for (const step of steps) {
        try {
          await step.run();
        } catch (err) {
          onError(step.name, err);
        }
      }
    })();
    return done;
  };
}

/** Resolves when `count()` reaches 0 or after `maxMs` on `clock`. */
export async function waitForDrain(count: () => number, maxMs: number, clock: Clock, pollMs = 20): Promise<void> {
  const until = clock.now() + maxMs;
  while (count() > 0 && clock.now() < until) await clock.sleep(Math.min(pollMs, until - clock.now()));
}
