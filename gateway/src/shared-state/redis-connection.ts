/**
 * The gateway's connection to the Redis that replicas share (tenant limits, canary pairs, jobs).
 *
 * Redis is a dependency a replica must survive losing: every command has a short timeout and
 * nothing queues while the connection is down (`enableOfflineQueue: false`), so a caller learns
 * at once that it has to fall back — never a hang, never a 5xx. The outage is logged once when it
 * starts and once when it ends, and exported as `voxgate_gateway_shared_state_up` (alert on it).
 *
 * Each replica also announces itself once a second in a sorted set, so every replica knows how
 * many share the limits: its share of a tenant's limit while Redis is out is 1/replicas.
 *
 * Owner: the gateway; `close()` it (stops the heartbeat, quits the connection).
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { systemClock, type Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';

export interface SharedStateOptions {
  url: string;
  /** Per-command bound: past it the caller falls back (default 50 ms). */
  commandTimeoutMs?: number;
  /** Redis key prefix, so several deployments can share one server. */
  prefix?: string;
  /** How long a replica counts as alive after its last heartbeat (default 5 s). */
  replicaTtlMs?: number;
  heartbeatMs?: number;
  replicaId?: string;
  log: Logger;
  /** Heartbeat timestamps (the gateway's clock; the rate limit itself uses Redis's). */
  clock?: Clock;
  onUpChange?: (up: boolean) => void;
}

export class SharedState {
  readonly redis: Redis;
  readonly prefix: string;
  readonly replicaId: string;
  #up = false;
  #replicas = 1;
  #errors = 0;
  #timer: NodeJS.Timeout | undefined;
  #bulk: Redis | undefined;
  readonly #options: SharedStateOptions;

  /**
   * @example
   * const shared = new SharedState({ url: 'redis://127.0.0.1:6379', log });
   * await shared.ready();
   */
  constructor(options: SharedStateOptions) {
    this.#options = options;
    this.prefix = options.prefix ?? 'voxgate:';
    this.replicaId = options.replicaId ?? randomUUID();
    this.redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 50,
      connectTimeout: 1_000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Reconnect forever, backing off to 2 s: the shared limit resumes when Redis returns.
      retryStrategy: (times) => Math.min(100 * times, 2_000),
      lazyConnect: false,
    });
    this.redis.on('ready', () => this.#setUp(true));
    this.redis.on('close', () => this.#setUp(false));
    // ioredis emits 'error' on every failed reconnect; the transition is what gets logged.
    this.redis.on('error', () => undefined);
    this.#timer = setInterval(() => void this.#heartbeat(), options.heartbeatMs ?? 1_000);
    this.#timer.unref();
  }

  /** Resolves when connected (or after `timeoutMs`, still down: the replica runs on its share). */
  async ready(timeoutMs = 2_000): Promise<boolean> {
    if (this.#up) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.#up) await this.#heartbeat();
    return this.#up;
  }

  /**
   * A second connection for background bulk reads and writes (the canary sync, once a second):
   * its longer timeout never delays admission's commands, which keep the short one.
   */
  bulk(): Redis {
    if (!this.#bulk) {
      // Its commands may wait for the connection (it is background work), never past the timeout.
      this.#bulk = this.redis.duplicate({ commandTimeout: 2_000, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
      this.#bulk.on('error', () => undefined);
    }
    return this.#bulk;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Live replicas as of the last heartbeat (at least 1: this one). */
  get replicas(): number {
    return this.#replicas;
  }

  get errors(): number {
    return this.#errors;
  }

  /** Callers report a failed command here, so the outage shows even between heartbeats. */
  failed(op: string, err: unknown): void {
    this.#errors++;
    if (this.#up && (err as Error)?.message?.includes('timed out')) {
      this.#options.log.warn({ op, err: (err as Error).message }, 'shared state command timed out');
    }
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  #setUp(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    if (up) this.#options.log.info({ replica: this.replicaId }, 'shared state reachable');
    else this.#options.log.warn({ replica: this.replicaId }, 'shared state unreachable: limits fall back to this replica’s share');
    this.#options.onUpChange?.(up);
  }

  async #heartbeat(): Promise<void> {
    if (!this.#up) return;
    const now = (this.#options.clock ?? systemClock).now();
    const set = this.key('replicas');
    try {
      const results = await this.redis
        .multi()
        .zadd(set, now, this.replicaId)
        .zremrangebyscore(set, '-inf', now - (this.#options.replicaTtlMs ?? 5_000))
        .zcard(set)
        .exec();
      const count = Number(results?.[2]?.[1] ?? 1);
      this.#replicas = Math.max(1, count);
    } catch (err) {
      this.failed('heartbeat', err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      if (this.#up) await this.redis.zrem(this.key('replicas'), this.replicaId);
    } catch {
      // Closing anyway: the entry ages out.
    }
    this.redis.disconnect();
    this.#bulk?.disconnect();
    this.#bulk = undefined;
    this.#setUp(false);
  }
}
