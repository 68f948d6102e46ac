import { describe, expect, it } from 'vitest';
import { BodyPool } from '../../../gateway/src/upstream/body-pool.ts';

describe('BodyPool', () => {
  it('hands out buffers of the asked length and reuses one given back in the same size class', () => {
    const pool = new BodyPool(2 ** 20);
    const a = pool.take(65_580);
    expect(a.length).toBe(65_580);
    expect(a.buffer.byteLength).toBe(5 * 16 * 1024);
    pool.give(a);
    expect(pool.keptBytes).toBe(5 * 16 * 1024);
    const b = pool.take(70_000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(70_000);
    expect(pool.keptBytes).toBe(0);
    // Another class gets its own slab.
    const c = pool.take(10);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.buffer.byteLength).toBe(16 * 1024);
  });

  it('keeps no more than its cap and ignores buffers it did not make', () => {
    const pool = new BodyPool(100 * 1024);
    const slabs = [pool.take(60_000), pool.take(60_000)];
    for (const s of slabs) pool.give(s);
    expect(pool.keptBytes).toBe(64 * 1024);
    pool.give(Buffer.from('not a slab'));
    pool.give(pool.take(20_000).subarray(1));
    expect(pool.keptBytes).toBe(64 * 1024);
  });
});
