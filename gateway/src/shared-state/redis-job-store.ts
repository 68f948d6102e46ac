/**
 * Jobs on Redis, for several gateway replicas: a job accepted by one replica is run by whichever
 * claims it, and survives the replica that accepted or ran it (a running job holds a lease; when
 * the lease runs out without renewal, any replica puts the job back in the queue, finished
 * segments kept). Audio lives on a directory every replica mounts (a ReadWriteMany volume).
 *
 * Layout (prefix `voxgate:`): `job:<id>` the record (JSON); sorted sets `jobs:queued` (by
 * creation), `jobs:running` (by lease end), `jobs:callbacks` (by next attempt), `jobs:expiry`
 * (by retention end); `jobs:pending:<tenant>` (ids queued or running); `jobs:segments:<id>`
 * (segment index → file); `jobs:chars:<tenant>:<utc day>` (characters accepted that day).
 * Every change of a record and its indexes is one Lua script, so a reader never sees them apart.
 * @module
 */
import path from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { DAY_MS, type JobRecord, type JobStore } from '../jobs/job-store.ts';
import { pathInside, writeAtomic } from '../storage/write-atomic.ts';
import type { SharedState } from './redis-connection.ts';

/** Rewrites a record and every index that depends on it. KEYS: job, queued, running, callbacks, expiry, pending; ARGV: JSON. */
const PUT_INDEXED = `
local job = cjson.decode(ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
local id = job.id
if job.status == 'queued' then redis.call('ZADD', KEYS[2], job.createdAt, id) else redis.call('ZREM', KEYS[2], id) end
if job.status == 'running' then redis.call('ZADD', KEYS[3], job.leaseUntil or 0, id) else redis.call('ZREM', KEYS[3], id) end
if type(job.callback) == 'table' and job.callback.state == 'pending' then redis.call('ZADD', KEYS[4], job.callback.next_at or 0, id) else redis.call('ZREM', KEYS[4], id) end
if job.expiresAt then redis.call('ZADD', KEYS[5], job.expiresAt, id) else redis.call('ZREM', KEYS[5], id) end
if job.status == 'queued' or job.status == 'running' then redis.call('SADD', KEYS[6], id) else redis.call('SREM', KEYS[6], id) end
return 1
`;

/** KEYS: queued, job key prefix, running; ARGV: now, owner, leaseUntil. Pops the oldest queued id and leases it. */
const CLAIM = `
local ids = redis.call('ZRANGE', KEYS[1], 0, 0)
if #ids == 0 then return false end
redis.call('ZREM', KEYS[1], ids[1])
local raw = redis.call('GET', KEYS[2] .. ids[1])
if not raw then return false end
local job = cjson.decode(raw)
job.status = 'running'
job.updatedAt = tonumber(ARGV[1])
job.leaseOwner = ARGV[2]
job.leaseUntil = tonumber(ARGV[3])
local out = cjson.encode(job)
redis.call('SET', KEYS[2] .. ids[1], out)
redis.call('ZADD', KEYS[3], job.leaseUntil, ids[1])
return out
`;

/** KEYS: job, running; ARGV: owner, leaseUntil. */
const RENEW = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local job = cjson.decode(raw)
if job.status ~= 'running' or job.leaseOwner ~= ARGV[1] then return 0 end
job.leaseUntil = tonumber(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(job))
redis.call('ZADD', KEYS[2], job.leaseUntil, job.id)
return 1
`;

/** KEYS: job, segments; ARGV: index, file, chars, model, now. Counts a segment once. */
const SAVE_SEGMENT = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 0
end
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local job = cjson.decode(raw)
job.segmentsDone = (job.segmentsDone or 0) + 1
job.charsDone = (job.charsDone or 0) + tonumber(ARGV[3])
job.updatedAt = tonumber(ARGV[5])
if type(job.models) ~= 'table' then job.models = {} end
local seen = false
for _, m in ipairs(job.models) do if m == ARGV[4] then seen = true end end
if not seen then table.insert(job.models, ARGV[4]) end
redis.call('SET', KEYS[1], cjson.encode(job))
return 1
`;

export class RedisJobStore implements JobStore {
  readonly #dir: string;

  /**
   * @param audioDir a directory every replica mounts (ReadWriteMany in Kubernetes).
   * @example
   * const store = new RedisJobStore(shared, '/var/lib/voxgate/jobs');
   */
  constructor(
    private readonly shared: SharedState,
    audioDir: string,
  ) {
    this.#dir = path.resolve(audioDir);
    mkdirSync(this.#dir, { recursive: true });
  }

  #k(...parts: string[]): string {
    return this.shared.key('jobs', ...parts);
  }

  #jobKey(id: string): string {
    return this.shared.key('job', id);
  }

  async #put(job: JobRecord): Promise<void> {
    // cjson cannot tell an empty object from an empty array; records never hold empty ones.
    await this.shared.redis.eval(
      PUT_INDEXED,
      6,
      this.#jobKey(job.id),
      this.#k('queued'),
      this.#k('running'),
      this.#k('callbacks'),
      this.#k('expiry'),
      this.#k('pending', job.tenant),
      JSON.stringify(job),
    );
  }

  async create(job: JobRecord): Promise<void> {
    await this.#put(job);
    const day = this.#k('chars', job.tenant, String(Math.floor(job.createdAt / DAY_MS)));
    await this.shared.redis
      .multi()
      .incrby(day, job.charsTotal)
      .pexpire(day, 2 * DAY_MS)
      .exec();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const raw = await this.shared.redis.get(this.#jobKey(id));
    return raw ? (JSON.parse(raw) as JobRecord) : undefined;
  }

  async claim(now: number, owner: string, leaseUntil: number): Promise<JobRecord | undefined> {
    const raw = (await this.shared.redis.eval(CLAIM, 3, this.#k('queued'), this.shared.key('job', ''), this.#k('running'), now, owner, leaseUntil)) as
      string | null;
    return raw ? (JSON.parse(raw) as JobRecord) : undefined;
  }

  async renew(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    return (await this.shared.redis.eval(RENEW, 2, this.#jobKey(id), this.#k('running'), owner, leaseUntil)) === 1;
  }

  async update(id: string, fields: Partial<Omit<JobRecord, 'id' | 'tenant' | 'request'>>): Promise<void> {
    // Only the lease holder (or a cancel, which the runner re-reads before each segment) writes a
    // record, so a read-modify-write per update is enough; the indexes move in one script.
    const job = await this.get(id);
    if (job) await this.#put({ ...job, ...fields });
  }

  async saveSegment(id: string, index: number, chars: number, pcm: Int16Array, model: string, now: number): Promise<void> {
    const file = path.join(id, `segment-${String(index).padStart(6, '0')}.pcm`);
    writeAtomic(this.audioPath(file), new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    await this.shared.redis.eval(SAVE_SEGMENT, 2, this.#jobKey(id), this.#k('segments', id), index, file, chars, model, now);
  }

  async finishedSegments(id: string): Promise<Map<number, string>> {
    const all = await this.shared.redis.hgetall(this.#k('segments', id));
    return new Map(Object.entries(all).map(([k, v]) => [Number(k), v]));
  }

  async dropSegments(id: string): Promise<void> {
    for (const file of (await this.finishedSegments(id)).values()) rmSync(this.audioPath(file), { force: true });
    await this.shared.redis.del(this.#k('segments', id));
  }

  async writeAudio(id: string, bytes: Buffer, extension: string): Promise<string> {
    const file = path.join(id, `audio.${extension}`);
    writeAtomic(this.audioPath(file), bytes);
    return file;
  }

  audioPath(file: string): string {
    return pathInside(this.#dir, file);
  }

  async #byScore(set: string, max: number, limit = 64): Promise<JobRecord[]> {
    const ids = await this.shared.redis.zrangebyscore(this.#k(set), '-inf', max, 'LIMIT', 0, limit);
    const jobs = await Promise.all(ids.map((id) => this.get(id)));
    return jobs.filter((j): j is JobRecord => j !== undefined);
  }

  async dueCallbacks(now: number): Promise<JobRecord[]> {
    return this.#byScore('callbacks', now, 32);
  }

  async requeueExpired(now: number): Promise<number> {
    const stale = await this.#byScore('running', now);
    for (const job of stale) await this.#put({ ...job, status: 'queued', updatedAt: now, leaseOwner: undefined, leaseUntil: undefined });
    return stale.length;
  }

  async expire(now: number): Promise<number> {
    const expired = await this.#byScore('expiry', now);
    for (const job of expired) {
      rmSync(this.audioPath(job.id), { recursive: true, force: true });
      await this.shared.redis
        .multi()
        .del(this.#jobKey(job.id), this.#k('segments', job.id))
        .zrem(this.#k('queued'), job.id)
        .zrem(this.#k('running'), job.id)
        .zrem(this.#k('callbacks'), job.id)
        .zrem(this.#k('expiry'), job.id)
        .srem(this.#k('pending', job.tenant), job.id)
        .exec();
    }
    return expired.length;
  }

  async pendingCount(tenant: string): Promise<number> {
    return this.shared.redis.scard(this.#k('pending', tenant));
  }

  async charsOnDay(tenant: string, now: number): Promise<number> {
    return Number((await this.shared.redis.get(this.#k('chars', tenant, String(Math.floor(now / DAY_MS))))) ?? 0);
  }

  async close(): Promise<void> {
    // The connection belongs to SharedState, which the gateway closes.
  }
}
