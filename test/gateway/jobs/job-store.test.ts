/**
 * One contract, every JobStore: the embedded SQLite store and the Redis one shared by replicas.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, SqliteJobStore, type JobRecord, type JobStore } from '../../../gateway/src/jobs/job-store.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { SharedState } from '../../../gateway/src/shared-state/redis-connection.ts';
import { RedisJobStore } from '../../../gateway/src/shared-state/redis-job-store.ts';
import { hasRedis, startRedis, type RedisProcess } from '../../support/redis-server.ts';

function job(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    tenant: 't1',
    plan: 'pro',
    status: 'queued',
    request: { text: 'One. Two. Three.', format: 'wav', speed: 1, seed: 1 },
    createdAt: 1_000,
    updatedAt: 1_000,
    segmentsTotal: 3,
    segmentsDone: 0,
    charsTotal: 16,
    charsDone: 0,
    ...fields,
  };
}

interface Kind {
  name: string;
  enabled: () => boolean;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** A store over `dir`; opening twice on one dir is a restart. */
  open: (dir: string) => Promise<JobStore>;
}

let redis: RedisProcess | undefined;
const shared: SharedState[] = [];
const log = createLogger({ level: 'silent' });

const KINDS: Kind[] = [
  { name: 'SqliteJobStore', enabled: () => true, open: async (dir) => new SqliteJobStore(path.join(dir, 'jobs.sqlite'), path.join(dir, 'audio')) },
  {
    name: 'RedisJobStore',
    enabled: hasRedis,
    setup: async () => {
      redis = await startRedis();
    },
    teardown: async () => {
      for (const s of shared.splice(0)) await s.close();
      await redis?.stop();
    },
    open: async (dir) => {
      // One key prefix per test directory, so a reopened store sees its own jobs only.
      const prefix = `t${dir.split('-').pop()}:`;
      const state = new SharedState({ url: redis!.url, log, prefix });
      shared.push(state);
      await state.ready();
      return new RedisJobStore(state, path.join(dir, 'audio'));
    },
  },
];

describe.each(KINDS)('$name', (kind) => {
  const enabled = kind.enabled();
  const dirs: string[] = [];
  const stores: JobStore[] = [];
  const open = async (dir = mkdtempSync(path.join(tmpdir(), 'voxgate-jobs-'))) => {
    if (!dirs.includes(dir)) dirs.push(dir);
    const store = await kind.open(dir);
    stores.push(store);
    return { dir, store };
  };
  beforeAll(async () => {
    if (enabled) await kind.setup?.();
  });
  afterAll(async () => {
    if (enabled) await kind.teardown?.();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it.skipIf(!enabled)('claims queued jobs oldest first, once each', async () => {
    const { store } = await open();
    await store.create(job('b', { createdAt: 2_000 }));
    await store.create(job('a', { createdAt: 1_000 }));
    expect((await store.claim(5_000, 'r1', 9_000))?.id).toBe('a');
    expect((await store.claim(5_000, 'r1', 9_000))?.id).toBe('b');
    expect(await store.claim(5_000, 'r1', 9_000)).toBeUndefined();
    expect(await store.get('a')).toMatchObject({ status: 'running', leaseOwner: 'r1', leaseUntil: 9_000 });
    expect(await store.renew('a', 'r2', 10_000)).toBe(false);
    expect(await store.renew('a', 'r1', 10_000)).toBe(true);
  });

  it.skipIf(!enabled)('keeps finished segments across a restart and requeues a job whose lease ran out', async () => {
    const { dir, store } = await open();
    await store.create(job('j'));
    await store.claim(2_000, 'r1', 2_500);
    await store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100);
    await store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100); // a repeat does not count twice
    await store.saveSegment('j', 1, 5, Int16Array.from([4, 5]), 'espeak-zh', 2_200);
    await store.close();

    const { store: again } = await open(dir);
    expect(await again.requeueExpired(2_400)).toBe(0); // the lease still holds
    expect(await again.requeueExpired(3_000)).toBe(1);
    const resumed = (await again.claim(3_000, 'r2', 4_000))!;
    expect(resumed).toMatchObject({ id: 'j', segmentsDone: 2, charsDone: 9, models: ['flite-hd', 'espeak-zh'], leaseOwner: 'r2' });
    const segments = await again.finishedSegments('j');
    expect([...segments.keys()].sort()).toEqual([0, 1]);
    const pcm = readFileSync(again.audioPath(segments.get(1)!));
    expect(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)).toEqual(Int16Array.from([4, 5]));
  });

  it.skipIf(!enabled)('counts quotas per tenant and expires jobs with their files', async () => {
    const { store } = await open();
    await store.create(job('q1'));
    await store.create(job('q2', { tenant: 't2', charsTotal: 100, createdAt: 5_000 }));
    await store.create(job('done', { status: 'succeeded', charsTotal: 50, createdAt: 6_000, expiresAt: 10_000 }));
    await store.create(job('tomorrow', { status: 'succeeded', charsTotal: 7, createdAt: DAY_MS + 1 }));
    expect(await store.pendingCount('t1')).toBe(1);
    expect(await store.charsOnDay('t1', 500)).toBe(66);
    expect(await store.charsOnDay('t1', DAY_MS + 500)).toBe(7);
    expect(await store.charsOnDay('t2', 500)).toBe(100);
    const file = await store.writeAudio('done', Buffer.from('RIFF'), 'wav');
    expect(existsSync(store.audioPath(file))).toBe(true);
    expect(await store.expire(9_999)).toBe(0);
    expect(await store.expire(10_000)).toBe(1);
    expect(await store.get('done')).toBeUndefined();
    expect(existsSync(store.audioPath(file))).toBe(false);
    await store.update('q1', { status: 'cancelled' });
    expect(await store.pendingCount('t1')).toBe(0);
    expect((await store.claim(20_000, 'r', 30_000))?.id).toBe('q2'); // the cancelled one left the queue
  });

  it.skipIf(!enabled)('lists callbacks that are due', async () => {
    const { store } = await open();
    await store.create(job('c1', { callback: { state: 'pending', attempts: 1, next_at: 5_000 } }));
    await store.create(job('c2', { callback: { state: 'delivered', attempts: 1 } }));
    expect(await store.dueCallbacks(4_999)).toHaveLength(0);
    expect((await store.dueCallbacks(5_000)).map((j) => j.id)).toEqual(['c1']);
    await store.update('c1', { callback: { state: 'delivered', attempts: 2 } });
    expect(await store.dueCallbacks(5_000)).toHaveLength(0);
  });
});
