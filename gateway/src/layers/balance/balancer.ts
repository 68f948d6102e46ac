/**
 * The balancer interface: pick one endpoint from a non-empty candidate list. Implementations
 * (`p2c.ts`, `round-robin.ts`) share one contract test.
 * @module
 */
import type { Endpoint } from '../../upstream/endpoints.ts';

export interface Balancer {
  readonly name: string;
  /**
   * How many random candidates `pick` compares (Envoy least-request `choice_count`; p2c: 2).
   * When set, the balance layer may hand it just that many, drawn at random from the region,
   * instead of every candidate: O(1) per pick. Unset: it is always given the whole list.
   */
  readonly choiceCount?: number;
  pick(candidates: readonly Endpoint[]): Endpoint | undefined;
}

/** Load score used by load-aware balancers: work ahead (+1 for us) × latency EWMA. */
export function loadScore(e: Endpoint): number {
  return (e.outstanding() + 1) * e.latencyMs();
}
