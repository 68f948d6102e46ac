import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../node-runtime/src/scheduler/scheduler.ts';

const never = new AbortController().signal;

describe('Scheduler', () => {
  it('grants up to `slots` at once, queues up to the limit, refuses the rest at once', async () => {
    const s = new Scheduler({ slots: 2, queueLimit: 1 });
    const a = await s.acquire(never);
    const b = await s.acquire(never);
    const queued = s.acquire(never);
    await expect(s.acquire(never)).rejects.toMatchObject({ code: 'queue_full', status: 503 });
    expect(s.load()).toMatchObject({ inflight: 2, queue_depth: 1 });
    a.release();
    const c = await queued;
    expect(s.load()).toMatchObject({ inflight: 2, queue_depth: 0 });
    b.release();
    c.release();
    c.release(); // idempotent: must not free a slot twice
    expect(s.load()).toMatchObject({ inflight: 0, queue_depth: 0 });
    expect(s.idle()).toBe(true);
  });

  it('serves the queue first-in first-out, and a new arrival cannot overtake it', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 3 });
    const first = await s.acquire(never);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => s.acquire(never).then((slot) => (order.push(n), slot)));
    first.release();
    for (const w of waiters) (await w).release();
    expect(order).toEqual([1, 2, 3]);
  });

  it('removes a waiter whose signal fires, rejecting with the signal reason, without leaking its place', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 1 });
    const held = await s.acquire(never);
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(s.load().queue_depth).toBe(0);
    held.release();
    expect(s.load().inflight).toBe(0);
  });

  it('rejects an already-aborted signal without taking a slot', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 0 });
    await expect(s.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(s.load().inflight).toBe(0);
  });

  it('refuses invalid options before creating anything', () => {
    expect(() => new Scheduler({ slots: 0, queueLimit: 1 })).toThrow(RangeError);
    expect(() => new Scheduler({ slots: 1, queueLimit: -1 })).toThrow(RangeError);
  });

  it('suggests a Retry-After that grows with the queue', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 10 });
    expect(s.retryAfterS()).toBeGreaterThanOrEqual(1);
    const held = await s.acquire(never);
    for (let i = 0; i < 10; i++) void s.acquire(never);
    expect(s.retryAfterS()).toBeGreaterThanOrEqual(10);
    held.release();
  });
});

describe('Scheduler priority classes', () => {
  it('gives a freed slot to a waiting interactive request before any batch work', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 4 });
    const running = await s.acquire(never, 'batch');
    const order: string[] = [];
    const batch = s.acquire(never, 'batch').then((slot) => (order.push('batch'), slot));
    const interactive = s.acquire(never, 'interactive').then((slot) => (order.push('interactive'), slot));
    expect(s.load()).toMatchObject({ inflight: 0, batch_inflight: 1, queue_depth: 1, batch_queue_depth: 1 });
    running.release();
    (await interactive).release();
    (await batch).release();
    expect(order).toEqual(['interactive', 'batch']);
    expect(s.idle()).toBe(true);
  });

  it('lets batch work take at most half of a multi-slot node', async () => {
    // A short headroom window: the interactive peak below does not hold the third batch for long.
    const s = new Scheduler({ slots: 4, queueLimit: 4, batchHeadroomWindowMs: 20 });
    const a = await s.acquire(never, 'batch');
    const b = await s.acquire(never, 'batch');
    let third = false;
    const c = s.acquire(never, 'batch').then((slot) => ((third = true), slot));
    await Promise.resolve();
    expect(third).toBe(false);
    // Interactive arrivals start at once: they wait behind no batch segment at all.
    const i = await s.acquire(never, 'interactive');
    const j = await s.acquire(never, 'interactive');
    expect(s.load()).toMatchObject({ inflight: 2, batch_inflight: 2, batch_queue_depth: 1 });
    i.release();
    j.release();
    a.release();
    (await c).release();
    b.release();
    expect(s.idle()).toBe(true);
  });

  it('keeps batch out of the slots recent interactive demand used, plus one', async () => {
    let t = 0;
    const s = new Scheduler({ slots: 4, queueLimit: 8, clock: { nowMs: () => t }, batchHeadroomWindowMs: 1_000, batchMaxWaitMs: 60_000 });
    const held = await Promise.all([1, 2, 3].map(() => s.acquire(never, 'interactive')));
    for (const slot of held) slot.release();
    // Every slot is free, but three were interactive a moment ago: 4 − 3 − 1 leaves none for batch.
    let started = false;
    const batch = s.acquire(never, 'batch').then((slot) => ((started = true), slot));
    await Promise.resolve();
    expect(started).toBe(false);
    expect(s.load()).toMatchObject({ inflight: 0, batch_inflight: 0, batch_queue_depth: 1 });
    // Two windows later the peak is what is asked now (one interactive): 4 − 1 − 1 = 2 for batch.
    t = 2_500;
    const one = await s.acquire(never, 'interactive');
    one.release();
    (await batch).release();
    expect(started).toBe(true);
    expect(s.idle()).toBe(true);
  });

  it('lets batch that waited batchMaxWaitMs run alone under sustained interactive load', async () => {
    let t = 0;
    const s = new Scheduler({ slots: 4, queueLimit: 8, clock: { nowMs: () => t }, batchHeadroomWindowMs: 1_000, batchMaxWaitMs: 5_000 });
    const held = await Promise.all([1, 2].map(() => s.acquire(never, 'interactive')));
    let started = 0;
    const batches = [1, 2].map(() => s.acquire(never, 'batch').then((slot) => (started++, slot)));
    t = 5_001;
    // Any scheduling event looks again: the oldest batch request starts, alone.
    const more = await s.acquire(never, 'interactive');
    more.release();
    await Promise.resolve();
    expect(started).toBe(1);
    expect(s.load()).toMatchObject({ inflight: 2, batch_inflight: 1, batch_queue_depth: 1 });
    (await batches[0]!).release();
    await Promise.resolve();
    for (const slot of held) slot.release();
    t = 20_000;
    const last = await s.acquire(never, 'interactive');
    last.release();
    (await batches[1]!).release();
    expect(s.idle()).toBe(true);
  });

  it('bounds the batch queue on its own', async () => {
    const s = new Scheduler({ slots: 1, queueLimit: 5, batchQueueLimit: 0 });
    const held = await s.acquire(never, 'interactive');
    await expect(s.acquire(never, 'batch')).rejects.toMatchObject({ code: 'queue_full' });
    held.release();
  });
});
