/**
 * Power of two choices on load (Mitzenmacher; Envoy least-request with `choice_count` 2, linkerd
 * p2c over peak-EWMA): pick two distinct candidates at random and keep the one with the lower
 * `(node queue depth + in-flight + 1) × latency EWMA`. Cheap, and avoids the herd that "always the
 * least loaded" causes when load reports are stale.
 * @module
 */
import type { Endpoint } from '../../upstream/endpoints.ts';
import { loadScore, type Balancer } from './balancer.ts';

/**
 * @example
 * const node = p2c().pick(candidates);
 */
export function p2c(random: () => number = Math.random): Balancer {
  return {
    name: 'p2c',
    choiceCount: 2,
    pick(candidates: readonly Endpoint[]) {
      const n = candidates.length;
      if (n === 0) return undefined;
      if (n === 1) return candidates[0];
      const i = Math.floor(random() * n) % n;
      // The second pick is drawn from the other n-1, so the two always differ.
      let j = Math.floor(random() * (n - 1)) % (n - 1);
      if (j >= i) j += 1;
      const a = candidates[i]!;
      const b = candidates[j]!;
      return loadScore(b) < loadScore(a) ? b : a;
    },
  };
}
