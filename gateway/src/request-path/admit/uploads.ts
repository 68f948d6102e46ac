/**
 * Request bodies in progress, per tenant. Admission takes the tenant's rate-limit token and a
 * concurrency slot before the body is read; this cap adds that one tenant cannot keep many slow
 * uploads open at once (each holds a socket, a buffer and a slot until the server's request
 * timeout), whatever its rate limit would still allow.
 * @module
 */

export class TenantUploads {
  readonly #inProgress = new Map<string, number>();

  /** A release function, or `undefined` when the tenant already has `max` bodies arriving. */
  acquire(tenant: string, max: number): (() => void) | undefined {
    const n = this.#inProgress.get(tenant) ?? 0;
    if (n >= max) return undefined;
    this.#inProgress.set(tenant, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inProgress.get(tenant) ?? 1) - 1;
      if (left <= 0) this.#inProgress.delete(tenant);
      else this.#inProgress.set(tenant, left);
    };
  }

  /** Bodies arriving now, all tenants (for tests and metrics). */
  total(): number {
    let sum = 0;
    for (const n of this.#inProgress.values()) sum += n;
    return sum;
  }
}
