/**
 * The audio cache: synthesised audio kept on disk, addressed by everything that determines it,
 * so a text asked for again is answered without a node — also when every node of every region
 * is down.
 *
 * - Key: SHA-256 of (model, pack version, voice, speed, seed, normalised text, format). A pack
 *   version replaced by config or a reload changes every key of that model, so its entries are
 *   unreachable at once and age out by LRU; nothing has to be invalidated by hand.
 * - Bounded in bytes, least recently used out first. The index (key, size, last use) is in
 *   SQLite so it survives a restart; the audio files are written atomically (rename), so a crash
 *   leaves an entry whole or absent.
 * - Reads are synchronous file reads of small files (a sentence is tens of KB) and index updates
 *   of one row; they cost a few hundred µs at most, which is what a hit saves seconds for.
 *
 * Owner: the gateway; `close()` it.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { writeAtomic } from '../storage/write-atomic.ts';

export interface CacheKeyParts {
  model: string;
  packVersion: string;
  voice: string;
  speed: number;
  seed: number;
  text: string;
  format: string;
}

/** Whitespace runs collapse and the ends are trimmed: what a listener cannot hear is not a new key. */
export function normaliseForKey(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([parts.model, parts.packVersion, parts.voice, parts.speed, parts.seed, normaliseForKey(parts.text), parts.format]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface CachedAudio {
  body: Buffer;
  /** Response headers recorded at fill time (content type, model, sample rate…). */
  meta: Record<string, string>;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  used_at INTEGER NOT NULL,
  meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_use ON entries (used_at);
`;

export class AudioCache {
  readonly #db: Database.Database;
  readonly #dir: string;
  readonly #stmts;
  #bytes: number;
  /** Monotonic use counter: two hits in the same millisecond still have an order. */
  #tick: number;

  /**
   * @example
   * const cache = new AudioCache('.voxgate/cache', 512 * 2 ** 20);
   * cache.put(cacheKey(parts), audio, { 'content-type': 'audio/mpeg' });
   * cache.get(cacheKey(parts))?.body;
   */
  constructor(
    dir: string,
    readonly maxBytes: number,
  ) {
    this.#dir = path.resolve(dir);
    mkdirSync(this.#dir, { recursive: true });
    const db = new Database(path.join(this.#dir, 'index.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    this.#db = db;
    this.#stmts = {
      get: db.prepare('SELECT meta FROM entries WHERE key = ?'),
      touch: db.prepare('UPDATE entries SET used_at = ? WHERE key = ?'),
      put: db.prepare('INSERT OR REPLACE INTO entries (key, bytes, used_at, meta) VALUES (?, ?, ?, ?)'),
      size: db.prepare('SELECT bytes FROM entries WHERE key = ?'),
      oldest: db.prepare('SELECT key, bytes FROM entries ORDER BY used_at LIMIT 64'),
      delete: db.prepare('DELETE FROM entries WHERE key = ?'),
      totals: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes, coalesce(max(used_at), 0) AS tick FROM entries'),
    };
    const totals = this.#stmts.totals.get() as { n: number; bytes: number; tick: number };
    this.#bytes = totals.bytes;
    this.#tick = totals.tick;
  }

  #file(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('cache key must be a sha256 hex digest');
    return path.join(this.#dir, key.slice(0, 2), `${key}.bin`);
  }

  get(key: string): CachedAudio | undefined {
    const row = this.#stmts.get.get(key) as { meta: string } | undefined;
    if (!row) return undefined;
    let body: Buffer;
    try {
      body = readFileSync(this.#file(key));
    } catch {
      // The index outlived its file (removed by hand, disk trouble): forget the entry.
      this.#remove(key);
      return undefined;
    }
    this.#stmts.touch.run(++this.#tick, key);
    return { body, meta: JSON.parse(row.meta) as Record<string, string> };
  }

  has(key: string): boolean {
    return this.#stmts.get.get(key) !== undefined;
  }

  /** Stores an entry; one larger than the whole cache is not kept. Returns whether it was. */
  put(key: string, body: Buffer, meta: Record<string, string>): boolean {
    if (body.length > this.maxBytes) return false;
    writeAtomic(this.#file(key), body);
    const previous = this.#stmts.size.get(key) as { bytes: number } | undefined;
    this.#stmts.put.run(key, body.length, ++this.#tick, JSON.stringify(meta));
    this.#bytes += body.length - (previous?.bytes ?? 0);
    this.#evict();
    return true;
  }

  #remove(key: string): void {
    const row = this.#stmts.size.get(key) as { bytes: number } | undefined;
    if (!row) return;
    this.#stmts.delete.run(key);
    this.#bytes -= row.bytes;
    rmSync(this.#file(key), { force: true });
  }

  #evict(): void {
    while (this.#bytes > this.maxBytes) {
      const victims = this.#stmts.oldest.all() as { key: string; bytes: number }[];
      if (victims.length === 0) return;
      for (const v of victims) {
        if (this.#bytes <= this.maxBytes) return;
        this.#remove(v.key);
      }
    }
  }

  stats(): CacheStats {
    const totals = this.#stmts.totals.get() as { n: number };
    return { entries: totals.n, bytes: this.#bytes, maxBytes: this.maxBytes };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
