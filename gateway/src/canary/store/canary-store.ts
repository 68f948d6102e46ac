/**
 * The embedded store (better-sqlite3, WAL): finished pairs, counters and the verdict history,
 * so a report survives a gateway restart. Calls are synchronous but tiny — pairs and counters
 * written in one transaction per second, pairs nobody judged pruned to the window now and then —
 * so they stay off the gateway's hot path in practice; nothing here runs per client request.
 *
 * Owner: `CanaryService`; `close()` flushes pairs and counters and closes the database (idempotent).
 * @module
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PairRecord } from './pair-record.ts';

export interface VerdictPoint {
  at: number;
  verdict: string;
  compared: number;
  reasons: string[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pairs (
  id INTEGER PRIMARY KEY,
  canary TEXT NOT NULL,
  at INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pairs_by_canary ON pairs (canary, id);
CREATE TABLE IF NOT EXISTS counters (
  canary TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (canary, name)
);
CREATE TABLE IF NOT EXISTS verdicts (
  id INTEGER PRIMARY KEY,
  canary TEXT NOT NULL,
  at INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  compared INTEGER NOT NULL,
  reasons TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_by_canary ON verdicts (canary, id);
`;

/** A pair the judge scored (the others are errors, or compared on errors and latency only). */
const JUDGED = "(json_extract(record, '$.metrics') IS NOT NULL)";

export class CanaryStore {
  private db: Database.Database | undefined;
  private readonly pending = new Map<string, number>();
  private readonly pendingPairs: PairRecord[] = [];
  private readonly stmts;

  /**
   * @example
   * const store = new CanaryStore('.tmp/canary/canary.sqlite');
   * store.addPair(record);
   * store.close();
   */
  constructor(file: string, options: { readonly?: boolean } = {}) {
    if (file !== ':memory:' && !options.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // A lost last second of counters on power loss is acceptable; an fsync per pair is not.
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
    }
    this.db = db;
    this.stmts = {
      addPair: options.readonly ? undefined : db.prepare('INSERT INTO pairs (canary, at, record) VALUES (?, ?, ?)'),
      // The newest `n` judged pairs (audio metrics) and the newest `n` others, oldest first.
      recentWindow: db.prepare(
        `SELECT record FROM pairs WHERE id IN (SELECT id FROM pairs WHERE canary = @canary AND ${JUDGED} ORDER BY id DESC LIMIT @n)
           OR id IN (SELECT id FROM pairs WHERE canary = @canary AND NOT ${JUDGED} ORDER BY id DESC LIMIT @n) ORDER BY id`,
      ),
      pruneUnjudged: options.readonly
        ? undefined
        : db.prepare(
            `DELETE FROM pairs WHERE canary = @canary AND NOT ${JUDGED}
               AND id < (SELECT MIN(id) FROM (SELECT id FROM pairs WHERE canary = @canary AND NOT ${JUDGED} ORDER BY id DESC LIMIT @n))`,
          ),
      counters: db.prepare('SELECT name, value FROM counters WHERE canary = ?'),
      bump: options.readonly
        ? undefined
        : db.prepare('INSERT INTO counters (canary, name, value) VALUES (?, ?, ?) ON CONFLICT (canary, name) DO UPDATE SET value = value + excluded.value'),
      addVerdict: options.readonly ? undefined : db.prepare('INSERT INTO verdicts (canary, at, verdict, compared, reasons) VALUES (?, ?, ?, ?, ?)'),
      verdicts: db.prepare('SELECT at, verdict, compared, reasons FROM verdicts WHERE canary = ? ORDER BY id DESC LIMIT ?'),
      canaries: db.prepare('SELECT DISTINCT canary FROM counters UNION SELECT DISTINCT canary FROM pairs'),
    };
  }

  private live(): Database.Database {
    if (!this.db) throw new Error('canary store closed');
    return this.db;
  }

  /** Queues a pair; written by the next `flush()` (an INSERT of its own cost ~0.1 ms at the shadow rate). */
  addPair(p: PairRecord): void {
    this.live();
    this.pendingPairs.push(p);
  }

  /** What `PairWindow` holds after a restart: the newest `limit` judged pairs and the newest `limit` others, oldest first. */
  recentWindow(canary: string, limit: number): PairRecord[] {
    this.flush();
    const rows = this.stmts.recentWindow.all({ canary, n: limit }) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as PairRecord);
  }

  /**
   * Deletes all but the newest `keep` pairs that were not judged: under load most mirrors are
   * not, and they matter only while in the window. Judged pairs are few and all kept.
   */
  pruneUnjudged(canary: string, keep: number): void {
    this.flush();
    this.stmts.pruneUnjudged!.run({ canary, n: keep });
  }

  /** Adds to a counter; written by the next `flush()`. */
  count(canary: string, name: string, by = 1): void {
    const key = `${canary}\u0000${name}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + by);
  }

  /** Persisted values plus what is not flushed yet. */
  counters(canary: string): Record<string, number> {
    this.live();
    const out: Record<string, number> = {};
    for (const r of this.stmts.counters.all(canary) as { name: string; value: number }[]) out[r.name] = r.value;
    for (const [key, v] of this.pending) {
      const [c, name] = key.split('\u0000') as [string, string];
      if (c === canary) out[name] = (out[name] ?? 0) + v;
    }
    return out;
  }

  /** Writes queued pairs and counters in one transaction. */
  flush(): void {
    this.live();
    if ((this.pending.size === 0 && this.pendingPairs.length === 0) || !this.stmts.bump) return;
    const entries = [...this.pending];
    const pairs = this.pendingPairs.splice(0);
    this.pending.clear();
    this.db!.transaction(() => {
      for (const p of pairs) this.stmts.addPair!.run(p.canary, p.at, JSON.stringify(p));
      for (const [key, v] of entries) {
        const [c, name] = key.split('\u0000') as [string, string];
        this.stmts.bump!.run(c, name, v);
      }
    })();
  }

  addVerdict(canary: string, v: VerdictPoint): void {
    this.live();
    this.stmts.addVerdict!.run(canary, v.at, v.verdict, v.compared, JSON.stringify(v.reasons));
  }

  /** The most recent `limit` verdicts, oldest first. */
  verdicts(canary: string, limit = 500): VerdictPoint[] {
    this.live();
    const rows = this.stmts.verdicts.all(canary, limit) as { at: number; verdict: string; compared: number; reasons: string }[];
    return rows.reverse().map((r) => ({ at: r.at, verdict: r.verdict, compared: r.compared, reasons: JSON.parse(r.reasons) as string[] }));
  }

  /** Every canary the store has data for (the CLI reports those). */
  canaries(): string[] {
    this.live();
    return (this.stmts.canaries.all() as { canary: string }[]).map((r) => r.canary);
  }

  close(): void {
    if (!this.db) return;
    this.flush();
    this.db.close();
    this.db = undefined;
  }
}
