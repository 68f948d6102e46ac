/**
 * One undici `Pool` per node origin. Owns their lifetimes: `close()` lets in-flight requests
 * finish, `destroy()` stops at once; both are idempotent. `fetch` is never used on this path
 * (it costs 2–3× the CPU per request: docs/proxy-performance.md §2c).
 * @module
 */
import { Pool } from 'undici';

export interface PoolOptions {
  connections: number;
  connectTimeoutMs: number;
}

export class Pools {
  private readonly pools = new Map<string, Pool>();
  private closed = false;
  constructor(private readonly options: PoolOptions) {}

  /** The pool for an origin, created on first use. */
  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      if (this.closed) throw new Error('pools closed');
      pool = new Pool(origin, {
        connections: this.options.connections,
        connect: { timeout: this.options.connectTimeoutMs },
        // Deadlines come from AbortSignals per request; these are only backstops.
        headersTimeout: 0,
        bodyTimeout: 30_000,
        keepAliveTimeout: 10_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Drops one origin's pool (a node removed by a config reload). */
  async remove(origin: string): Promise<void> {
    const pool = this.pools.get(origin);
    this.pools.delete(origin);
    await pool?.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.close().catch(() => undefined)));
  }

  async destroy(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
