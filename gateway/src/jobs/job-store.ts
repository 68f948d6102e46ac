/**
 * Where jobs live: their request, state, progress per segment, callback delivery and audio.
 *
 * `JobStore` is the interface the job runner and the routes use; `SqliteJobStore` is the embedded
 * default (the gateway's SQLite, WAL, plus a directory of audio files written atomically), which
 * needs no server. A shared implementation (Redis for the queue and state, a ReadWriteMany volume
 * for the audio) fits behind the same interface: every method is one small atomic step, and
 * `claim()` is the only place a job changes hands.
 *
 * Durability: progress is recorded per finished segment (its PCM file is renamed into place
 * before the row says so), so a gateway killed mid-job resumes without re-synthesising finished
 * segments. Owner: the job service; `close()` it.
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { pathInside, writeAtomic } from '../storage/write-atomic.ts';
import type { DeliveryState } from './webhook.ts';

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobRequestSchema = z.object({
  text: z.string(),
  model: z.string().optional(),
  voice: z.string().optional(),
  format: z.string(),
  speed: z.number(),
  seed: z.number().int(),
  /** ChatTTS switches, as on /v1/synthesize (absent: the pack's defaults). */
  refine_text: z.boolean().optional(),
  first_sentence_prompt: z.boolean().optional(),
});
export type JobRequest = z.infer<typeof JobRequestSchema>;

export interface JobRecord {
  id: string;
  tenant: string;
  plan: string;
  status: JobStatus;
  request: JobRequest;
  createdAt: number;
  updatedAt: number;
  segmentsTotal: number;
  segmentsDone: number;
  charsTotal: number;
  charsDone: number;
  error?: { code: string; message: string } | undefined;
  callbackUrl?: string | undefined;
  callback?: DeliveryState | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Final audio file, relative to the store's audio directory, once succeeded. */
  audioFile?: string | undefined;
  audioBytes?: number | undefined;
  /** Models that spoke the segments, in order of first use. */
  models?: string[] | undefined;
  expiresAt?: number | undefined;
  /** Which replica runs the job, and until when its lease holds without renewal. */
  leaseOwner?: string | undefined;
  leaseUntil?: number | undefined;
}

export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Moves the oldest queued job to running, leased to `owner` until `leaseUntil`, and returns it;
   * undefined when none is queued. A shared store hands each job to one replica at a time.
   */
  claim(now: number, owner: string, leaseUntil: number): Promise<JobRecord | undefined>;
  /** Extends the lease of a running job; false when this owner no longer holds it. */
  renew(id: string, owner: string, leaseUntil: number): Promise<boolean>;
  update(id: string, fields: Partial<Omit<JobRecord, 'id' | 'tenant' | 'request'>>): Promise<void>;
  /** Records a finished segment: its PCM is written before the progress says so. */
  saveSegment(id: string, index: number, chars: number, pcm: Int16Array, model: string, now: number): Promise<void>;
  /** Files of finished segments' PCM, by index. */
  finishedSegments(id: string): Promise<Map<number, string>>;
  /** Drops the segment PCM once the final audio exists (it is only kept to resume). */
  dropSegments(id: string): Promise<void>;
  /** Writes the final audio atomically and returns its relative file name. */
  writeAudio(id: string, bytes: Buffer, extension: string): Promise<string>;
  audioPath(file: string): string;
  /** Jobs whose callback is still pending and due. */
  dueCallbacks(now: number): Promise<JobRecord[]>;
  /** Running jobs whose lease ran out (their replica died): back to queued, segments kept. */
  requeueExpired(now: number): Promise<number>;
  /** Deletes jobs (rows and files) whose retention ended; returns how many. */
  expire(now: number): Promise<number>;
  pendingCount(tenant: string): Promise<number>;
  /** Characters the tenant submitted on the UTC day that contains `now` (the daily quota). */
  charsOnDay(tenant: string, now: number): Promise<number>;
  close(): Promise<void>;
}

export const DAY_MS = 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  chars_total INTEGER NOT NULL,
  callback_next_at INTEGER,
  expires_at INTEGER,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created_at);
CREATE TABLE IF NOT EXISTS segments (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  file TEXT NOT NULL,
  PRIMARY KEY (job_id, idx)
);
`;

export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #dir: string;
  readonly #stmts;

  /**
   * @example
   * const store = new SqliteJobStore('.voxgate/jobs/jobs.sqlite', '.voxgate/jobs/audio');
   */
  constructor(file: string, audioDir: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    mkdirSync(audioDir, { recursive: true });
    this.#dir = path.resolve(audioDir);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    this.#db = db;
    this.#stmts = {
      insert: db.prepare(
        'INSERT INTO jobs (id, tenant, status, created_at, chars_total, callback_next_at, expires_at, record) VALUES (@id, @tenant, @status, @created_at, @chars_total, @callback_next_at, @expires_at, @record)',
      ),
      get: db.prepare('SELECT record FROM jobs WHERE id = ?'),
      put: db.prepare('UPDATE jobs SET status = @status, callback_next_at = @callback_next_at, expires_at = @expires_at, record = @record WHERE id = @id'),
      oldestQueued: db.prepare("SELECT record FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1"),
      running: db.prepare("SELECT record FROM jobs WHERE status = 'running'"),
      dueCallbacks: db.prepare('SELECT record FROM jobs WHERE callback_next_at IS NOT NULL AND callback_next_at <= ? ORDER BY callback_next_at LIMIT 32'),
      expired: db.prepare('SELECT record FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      delete: db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteSegments: db.prepare('DELETE FROM segments WHERE job_id = ?'),
      pending: db.prepare("SELECT count(*) AS n FROM jobs WHERE tenant = ? AND status IN ('queued', 'running')"),
      charsSince: db.prepare('SELECT coalesce(sum(chars_total), 0) AS n FROM jobs WHERE tenant = ? AND created_at >= ? AND created_at < ?'),
      addSegment: db.prepare('INSERT OR REPLACE INTO segments (job_id, idx, file) VALUES (?, ?, ?)'),
      segments: db.prepare('SELECT idx, file FROM segments WHERE job_id = ?'),
    };
  }

  #columns(job: JobRecord) {
    return {
      id: job.id,
      tenant: job.tenant,
      status: job.status,
      created_at: job.createdAt,
      chars_total: job.charsTotal,
      callback_next_at: job.callback?.state === 'pending' ? (job.callback.next_at ?? 0) : null,
      expires_at: job.expiresAt ?? null,
      record: JSON.stringify(job),
    };
  }

  #parse(row: unknown): JobRecord | undefined {
    return row ? (JSON.parse((row as { record: string }).record) as JobRecord) : undefined;
  }

  #get(id: string): JobRecord | undefined {
    return this.#parse(this.#stmts.get.get(id));
  }

  #put(job: JobRecord): void {
    this.#stmts.put.run(this.#columns(job));
  }

  #segments(id: string): Map<number, string> {
    const rows = this.#stmts.segments.all(id) as { idx: number; file: string }[];
    return new Map(rows.map((r) => [r.idx, r.file]));
  }

  async create(job: JobRecord): Promise<void> {
    this.#stmts.insert.run(this.#columns(job));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.#get(id);
  }

  async claim(now: number, owner: string, leaseUntil: number): Promise<JobRecord | undefined> {
    return this.#db.transaction(() => {
      const job = this.#parse(this.#stmts.oldestQueued.get());
      if (!job) return undefined;
      const next: JobRecord = { ...job, status: 'running', updatedAt: now, leaseOwner: owner, leaseUntil };
      this.#put(next);
      return next;
    })();
  }

  async renew(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    return this.#db.transaction(() => {
      const job = this.#get(id);
      if (!job || job.status !== 'running' || job.leaseOwner !== owner) return false;
      this.#put({ ...job, leaseUntil });
      return true;
    })();
  }

  async update(id: string, fields: Partial<Omit<JobRecord, 'id' | 'tenant' | 'request'>>): Promise<void> {
    this.#db.transaction(() => {
      const job = this.#get(id);
      if (job) this.#put({ ...job, ...fields });
    })();
  }

  async saveSegment(id: string, index: number, chars: number, pcm: Int16Array, model: string, now: number): Promise<void> {
    const file = path.join(id, `segment-${String(index).padStart(6, '0')}.pcm`);
    writeAtomic(this.audioPath(file), new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    this.#db.transaction(() => {
      const job = this.#get(id);
      if (!job) return;
      const known = this.#segments(id).has(index);
      this.#stmts.addSegment.run(id, index, file);
      if (known) return;
      const models = job.models ?? [];
      this.#put({
        ...job,
        segmentsDone: job.segmentsDone + 1,
        charsDone: job.charsDone + chars,
        models: models.includes(model) ? models : [...models, model],
        updatedAt: now,
      });
    })();
  }

  async finishedSegments(id: string): Promise<Map<number, string>> {
    return this.#segments(id);
  }

  async dropSegments(id: string): Promise<void> {
    for (const file of this.#segments(id).values()) rmSync(this.audioPath(file), { force: true });
    this.#stmts.deleteSegments.run(id);
  }

  async writeAudio(id: string, bytes: Buffer, extension: string): Promise<string> {
    const file = path.join(id, `audio.${extension}`);
    writeAtomic(this.audioPath(file), bytes);
    return file;
  }

  audioPath(file: string): string {
    return pathInside(this.#dir, file);
  }

  async dueCallbacks(now: number): Promise<JobRecord[]> {
    return (this.#stmts.dueCallbacks.all(now) as unknown[]).map((r) => this.#parse(r)!);
  }

  async requeueExpired(now: number): Promise<number> {
    return this.#db.transaction(() => {
      const stale = (this.#stmts.running.all() as unknown[]).map((r) => this.#parse(r)!).filter((j) => (j.leaseUntil ?? 0) <= now);
      for (const job of stale) this.#put({ ...job, status: 'queued', updatedAt: now, leaseOwner: undefined, leaseUntil: undefined });
      return stale.length;
    })();
  }

  async expire(now: number): Promise<number> {
    const expired = (this.#stmts.expired.all(now) as unknown[]).map((r) => this.#parse(r)!);
    for (const job of expired) {
      rmSync(this.audioPath(job.id), { recursive: true, force: true });
      this.#db.transaction(() => {
        this.#stmts.deleteSegments.run(job.id);
        this.#stmts.delete.run(job.id);
      })();
    }
    return expired.length;
  }

  async pendingCount(tenant: string): Promise<number> {
    return (this.#stmts.pending.get(tenant) as { n: number }).n;
  }

  async charsOnDay(tenant: string, now: number): Promise<number> {
    const start = Math.floor(now / DAY_MS) * DAY_MS;
    return (this.#stmts.charsSince.get(tenant, start, start + DAY_MS) as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
