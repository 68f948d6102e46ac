/**
 * Shadow traffic's own concurrency budget, per canary (Envoy `max_active_faults`): the mirror
 * never queues — at the cap a sampled request is dropped and counted.
 * @module
 */
export class ShadowBudget {
  private readonly inFlight = new Map<string, number>();

  /** Takes a slot for `canary`, or returns undefined at the cap. The release is idempotent. */
  tryAcquire(canary: string, cap: number): (() => void) | undefined {
    const n = this.inFlight.get(canary) ?? 0;
    if (n >= cap) return undefined;
    this.inFlight.set(canary, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(canary, (this.inFlight.get(canary) ?? 1) - 1);
    };
  }

  active(canary?: string): number {
    if (canary !== undefined) return this.inFlight.get(canary) ?? 0;
    let s = 0;
    for (const v of this.inFlight.values()) s += v;
    return s;
  }
}
