import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJobStore, type JobRecord } from '../../../gateway/src/jobs/job-store.ts';

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

describe('SqliteJobStore', () => {
  const dirs: string[] = [];
  const open = (dir = mkdtempSync(path.join(tmpdir(), 'voxgate-jobs-'))) => {
    dirs.push(dir);
    return { dir, store: new SqliteJobStore(path.join(dir, 'jobs.sqlite'), path.join(dir, 'audio')) };
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('claims queued jobs oldest first, once each', async () => {
    const { store } = open();
    await store.create(job('b', { createdAt: 2_000 }));
    await store.create(job('a', { createdAt: 1_000 }));
    expect((await store.claim(5_000, 'r1', 9_000))?.id).toBe('a');
    expect((await store.claim(5_000, 'r1', 9_000))?.id).toBe('b');
    expect(await store.claim(5_000, 'r1', 9_000)).toBeUndefined();
    expect((await store.get('a'))?.status).toBe('running');
    await store.close();
  });

  it('keeps finished segments across a restart and requeues a job whose lease ran out', async () => {
    const { dir, store } = open();
    await store.create(job('j'));
    await store.claim(2_000, 'r1', 2_500);
    await store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100);
    await store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100); // a repeat does not count twice
    await store.saveSegment('j', 1, 5, Int16Array.from([4, 5]), 'espeak-zh', 2_200);
    await store.close();

    const again = open(dir).store;
    expect(await again.requeueExpired(2_400)).toBe(0); // the lease still holds
    expect(await again.requeueExpired(3_000)).toBe(1);
    const resumed = (await again.claim(3_000, 'r2', 4_000))!;
    expect(resumed).toMatchObject({ id: 'j', segmentsDone: 2, charsDone: 9, models: ['flite-hd', 'espeak-zh'] });
    const segments = await again.finishedSegments('j');
    expect([...segments.keys()].sort()).toEqual([0, 1]);
    const pcm = readFileSync(again.audioPath(segments.get(1)!));
    expect(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)).toEqual(Int16Array.from([4, 5]));
    await again.close();
  });

  it('counts quotas per tenant and expires jobs with their files', async () => {
    const { store } = open();
    await store.create(job('q1'));
    await store.create(job('q2', { tenant: 't2', charsTotal: 100, createdAt: 5_000 }));
    await store.create(job('done', { status: 'succeeded', charsTotal: 50, createdAt: 6_000, expiresAt: 10_000 }));
    expect(await store.pendingCount('t1')).toBe(1);
    expect(await store.charsSince('t1', 0)).toBe(66);
    expect(await store.charsSince('t1', 5_500)).toBe(50);
    const file = await store.writeAudio('done', Buffer.from('RIFF'), 'wav');
    expect(existsSync(store.audioPath(file))).toBe(true);
    expect(await store.expire(9_999)).toBe(0);
    expect(await store.expire(10_000)).toBe(1);
    expect(await store.get('done')).toBeUndefined();
    expect(existsSync(store.audioPath(file))).toBe(false);
    await store.close();
  });

  it('lists callbacks that are due', async () => {
    const { store } = open();
    await store.create(job('c1', { callback: { state: 'pending', attempts: 1, next_at: 5_000 } }));
    await store.create(job('c2', { callback: { state: 'delivered', attempts: 1 } }));
    expect(await store.dueCallbacks(4_999)).toHaveLength(0);
    expect((await store.dueCallbacks(5_000)).map((j) => j.id)).toEqual(['c1']);
    await store.close();
  });
});
