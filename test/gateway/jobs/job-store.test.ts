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

  it('claims queued jobs oldest first, once each', () => {
    const { store } = open();
    store.create(job('b', { createdAt: 2_000 }));
    store.create(job('a', { createdAt: 1_000 }));
    expect(store.claim(5_000)?.id).toBe('a');
    expect(store.claim(5_000)?.id).toBe('b');
    expect(store.claim(5_000)).toBeUndefined();
    expect(store.get('a')?.status).toBe('running');
    store.close();
  });

  it('keeps finished segments across a restart and requeues the running job', () => {
    const { dir, store } = open();
    store.create(job('j'));
    store.claim(2_000);
    store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100);
    store.saveSegment('j', 0, 4, Int16Array.from([1, 2, 3]), 'flite-hd', 2_100); // a repeat does not count twice
    store.saveSegment('j', 1, 5, Int16Array.from([4, 5]), 'espeak-zh', 2_200);
    store.close();

    const again = open(dir).store;
    expect(again.requeueRunning(3_000)).toBe(1);
    const resumed = again.claim(3_000)!;
    expect(resumed).toMatchObject({ id: 'j', segmentsDone: 2, charsDone: 9, models: ['flite-hd', 'espeak-zh'] });
    const segments = again.finishedSegments('j');
    expect([...segments.keys()].sort()).toEqual([0, 1]);
    const pcm = readFileSync(again.audioPath(segments.get(1)!));
    expect(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)).toEqual(Int16Array.from([4, 5]));
    again.close();
  });

  it('counts quotas per tenant and expires jobs with their files', () => {
    const { store } = open();
    store.create(job('q1'));
    store.create(job('q2', { tenant: 't2', charsTotal: 100, createdAt: 5_000 }));
    store.create(job('done', { status: 'succeeded', charsTotal: 50, createdAt: 6_000, expiresAt: 10_000 }));
    expect(store.pendingCount('t1')).toBe(1);
    expect(store.charsSince('t1', 0)).toBe(66);
    expect(store.charsSince('t1', 5_500)).toBe(50);
    const file = store.writeAudio('done', Buffer.from('RIFF'), 'wav');
    expect(existsSync(store.audioPath(file))).toBe(true);
    expect(store.expire(9_999)).toBe(0);
    expect(store.expire(10_000)).toBe(1);
    expect(store.get('done')).toBeUndefined();
    expect(existsSync(store.audioPath(file))).toBe(false);
    store.close();
  });

  it('lists callbacks that are due', () => {
    const { store } = open();
    store.create(job('c1', { callback: { state: 'pending', attempts: 1, next_at: 5_000 } }));
    store.create(job('c2', { callback: { state: 'delivered', attempts: 1 } }));
    expect(store.dueCallbacks(4_999)).toHaveLength(0);
    expect(store.dueCallbacks(5_000).map((j) => j.id)).toEqual(['c1']);
    store.close();
  });
});
