/**
 * Round robin: ignores load. Kept as the baseline the contract test and benchmarks compare p2c to.
 * @module
 */
import type { Endpoint } from '../../upstream/endpoints.ts';
import type { Balancer } from './balancer.ts';

export function roundRobin(): Balancer {
  let next = 0;
  return {
    name: 'round-robin',
    pick(candidates: readonly Endpoint[]) {
      if (candidates.length === 0) return undefined;
      const e = candidates[next % candidates.length];
      next = (next + 1) % 1_000_000;
      return e;
    },
  };
}
