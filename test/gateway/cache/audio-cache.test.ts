import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioCache, cacheKey, type CacheKeyParts } from '../../../gateway/src/cache/audio-cache.ts';

const PARTS: CacheKeyParts = { model: 'flite-hd', packVersion: '1.0.0', voice: 'slt', speed: 1, seed: 7, text: 'Hello there.', format: 'mp3' };

describe('audio cache', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'voxgate-cache-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keys by everything that determines the audio, not by inaudible whitespace', () => {
    const base = cacheKey(PARTS);
    expect(cacheKey({ ...PARTS, text: '  Hello   there. ' })).toBe(base);
    for (const change of [
      { packVersion: '1.0.1' },
      { voice: 'rms' },
      { speed: 1.1 },
      { seed: 8 },
      { format: 'wav' },
      { model: 'x' },
      { text: 'Hello there!' },
    ]) {
      expect(cacheKey({ ...PARTS, ...change })).not.toBe(base);
    }
  });

  it('serves what it stored, and survives a restart', () => {
    const d = dir();
    const key = cacheKey(PARTS);
    const first = new AudioCache(d, 1 << 20);
    expect(first.get(key)).toBeUndefined();
    expect(first.put(key, Buffer.from('audio bytes'), { 'content-type': 'audio/mpeg' })).toBe(true);
    first.close();
    const second = new AudioCache(d, 1 << 20);
    expect(second.get(key)).toEqual({ body: Buffer.from('audio bytes'), meta: { 'content-type': 'audio/mpeg' } });
    expect(second.stats()).toMatchObject({ entries: 1, bytes: 11 });
    second.close();
  });

  it('evicts the least recently used entries to stay within its byte bound', () => {
    const cache = new AudioCache(dir(), 300);
    const keys = [1, 2, 3].map((seed) => cacheKey({ ...PARTS, seed }));
    cache.put(keys[0]!, Buffer.alloc(100), {});
    cache.put(keys[1]!, Buffer.alloc(100), {});
    cache.put(keys[2]!, Buffer.alloc(100), {});
    expect(cache.get(keys[0]!)).toBeDefined(); // now the most recently used
    cache.put(cacheKey({ ...PARTS, seed: 4 }), Buffer.alloc(100), {});
    expect(cache.has(keys[1]!)).toBe(false);
    expect(cache.has(keys[0]!)).toBe(true);
    expect(cache.stats().bytes).toBeLessThanOrEqual(300);
    expect(cache.put(cacheKey({ ...PARTS, seed: 5 }), Buffer.alloc(301), {})).toBe(false);
    cache.close();
  });

  it('a replaced pack version: old entries are unreachable by key and age out as new ones fill the bound', () => {
    const cache = new AudioCache(dir(), 300);
    const old = [1, 2].map((seed) => cacheKey({ ...PARTS, packVersion: '1.0.0', seed }));
    for (const key of old) cache.put(key, Buffer.alloc(100), {});
    // The same requests under the new version are misses.
    const fresh = [1, 2, 3].map((seed) => cacheKey({ ...PARTS, packVersion: '2.0.0', seed }));
    expect(fresh.every((key) => cache.get(key) === undefined)).toBe(true);
    for (const key of fresh) cache.put(key, Buffer.alloc(100), {});
    expect(old.map((key) => cache.has(key))).toEqual([false, false]);
    expect(fresh.map((key) => cache.has(key))).toEqual([true, true, true]);
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 300 });
    cache.close();
  });
});
