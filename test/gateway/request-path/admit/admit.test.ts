import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../gateway/src/lifecycle/clock.ts';
import { KeyTable, sha256 } from '../../../../gateway/src/request-path/admit/auth.ts';
import { detectLanguage } from '../../../../gateway/src/request-path/admit/language.ts';
import { ConcurrencyLimiter } from '../../../../gateway/src/request-path/admit/load-shed.ts';
import { TenantRateLimiter } from '../../../../gateway/src/request-path/admit/rate-limit.ts';
import { applyTextPolicy, cutAtSentence } from '../../../../gateway/src/request-path/admit/text-policy.ts';

describe('auth', () => {
  const table = new KeyTable([
    { key: 'demo-pro', tenant: 'acme', plan: 'pro' },
    { sha256: sha256('secret-ent').toString('hex'), tenant: 'big', plan: 'enterprise' },
  ]);
  it('maps plain and hashed keys to tenant and plan', () => {
    expect(table.authenticate('Bearer demo-pro')).toEqual({ tenant: 'acme', plan: 'pro' });
    expect(table.authenticate('bearer secret-ent')).toEqual({ tenant: 'big', plan: 'enterprise' });
  });
  it('refuses anything else with 401', () => {
    for (const h of [undefined, '', 'demo-pro', 'Bearer', 'Bearer demo-pr', 'Basic demo-pro'])
      expect(() => table.authenticate(h)).toThrow(expect.objectContaining({ status: 401 }));
  });
  it('remembers a key that matched, and only for the table that matched it (a reload revokes)', () => {
    const t = new KeyTable([{ key: 'demo-pro', tenant: 'acme', plan: 'pro' }]);
    for (let i = 0; i < 3; i++) expect(t.authenticate('Bearer demo-pro')).toEqual({ tenant: 'acme', plan: 'pro' });
    expect(() => t.authenticate('Bearer demo-pro2')).toThrow(expect.objectContaining({ status: 401 }));
    const reloaded = new KeyTable([{ key: 'other', tenant: 'acme', plan: 'pro' }]);
    expect(() => reloaded.authenticate('Bearer demo-pro')).toThrow(expect.objectContaining({ status: 401 }));
  });
});

describe('rate limit (token bucket per tenant)', () => {
  it('allows the burst, then the rate, and says when to come back', () => {
    const clock = new ManualClock();
    const rl = new TenantRateLimiter(clock);
    const lim = { rps: 2, burst: 3 };
    for (let i = 0; i < 3; i++) rl.take('t', lim);
    let err: { status?: number; retryAfterMs?: number } = {};
    try {
      rl.take('t', lim);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBeCloseTo(500);
    rl.take('other', lim); // tenants are independent
    clock.advance(500);
    rl.take('t', lim);
  });
});

describe('concurrency limit shed by plan', () => {
  it('refuses free at 60% of the limit, pro at 85%, enterprise at 100%', () => {
    const lim = new ConcurrencyLimiter(() => 10);
    const held = Array.from({ length: 6 }, () => lim.acquire(1));
    expect(() => lim.acquire(0.6)).toThrow(expect.objectContaining({ status: 429 }));
    held.push(lim.acquire(0.85), lim.acquire(0.85));
    expect(() => lim.acquire(0.85)).toThrow();
    held.push(lim.acquire(1), lim.acquire(1));
    expect(() => lim.acquire(1)).toThrow();
    held[0]!();
    held[0]!();
    expect(lim.inFlight()).toBe(9);
  });
});

describe('text policy', () => {
  it('rejects over the limit with 413 text_too_long', () => {
    expect(() => applyTextPolicy('x'.repeat(11), 10, 'reject')).toThrow(expect.objectContaining({ status: 413, wire: 'text_too_long' }));
  });
  it('truncates at a sentence boundary', () => {
    expect(cutAtSentence('One. Two two. Three three three.', 20)).toBe('One. Two two.');
    expect(cutAtSentence('你好。世界很大。再见', 6)).toBe('你好。');
    expect(applyTextPolicy('Short.', 10, 'truncate')).toEqual({ text: 'Short.', truncated: false });
  });
  it('never exceeds the limit and always keeps a prefix', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 200 }), (t, max) => {
        const { text } = applyTextPolicy(t, max, 'truncate');
        return Array.from(text).length <= max && t.startsWith(text);
      }),
    );
  });
});

describe('language detection', () => {
  it('tells CJK from Latin', () => {
    expect([...detectLanguage('Hello, world.')]).toEqual(['en']);
    expect([...detectLanguage('你好，世界。')]).toEqual(['zh']);
    expect([...detectLanguage('今天天气很好 OK')]).toEqual(['zh', 'en']);
    expect([...detectLanguage('こんにちは')]).toEqual(['ja']);
    expect([...detectLanguage('안녕하세요')]).toEqual(['ko']);
    expect([...detectLanguage('12345 !!!')]).toEqual([]);
  });
});
