import { describe, expect, it } from 'vitest';
import { TrySignal } from '../../../gateway/src/core/try-signal.ts';

describe('TrySignal', () => {
  it('aborts once with its reason and runs each listener once', () => {
    const s = new TrySignal();
    const seen: unknown[] = [];
    const a = () => seen.push(['a', s.reason]);
    s.addEventListener('abort', a);
    s.addEventListener('abort', () => seen.push('b'));
    s.abort('first');
    s.abort('second');
    expect(s.aborted).toBe(true);
    expect(s.reason).toBe('first');
    expect(seen).toEqual([['a', 'first'], 'b']);
  });

  it('a removed listener does not run', () => {
    const s = new TrySignal();
    let n = 0;
    const l = () => n++;
    s.addEventListener('abort', l);
    s.removeEventListener('abort', l);
    s.abort('x');
    expect(n).toBe(0);
  });
});
