import { describe, expect, it } from 'vitest';
import { normaliseText, sampled, textPoint } from '../../gateway/src/canary/mirror/sampler.ts';
import { ShadowBudget } from '../../gateway/src/canary/mirror/shadow-budget.ts';

describe('deterministic sampler', () => {
  it('samples 5% ± 0.5 points of 20,000 distinct texts', () => {
    let hit = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (sampled(`Order ${i} shipped to customer ${i * 7919} today.`, 0.05)) hit++;
    // Binomial sd at n = 20,000 is 0.15 points: ±0.5 is over 3 sd.
    expect(Math.abs(hit / n - 0.05)).toBeLessThan(0.005);
  });

  it('is a pure function of the normalised text', () => {
    expect(normaliseText('  Hello\tWORLD  ')).toBe('hello world');
    expect(textPoint('Hello  world')).toBe(textPoint('hello world'));
    expect(textPoint('ｈｅｌｌｏ')).toBe(textPoint('hello')); // NFKC folds full-width letters
    // The one-pass ASCII normalisation agrees with normaliseText, and with the non-ASCII path.
    const odd = ['  Hello\tWORLD  ', '\n\rA\u000b\fb  c\t', 'x', '   ', 'Mixed CASE,   punctuation!\n'];
    for (const t of odd) expect(textPoint(t), JSON.stringify(t)).toBe(textPoint(normaliseText(t)));
    expect(textPoint('ＨＥＬＬＯ \u00a0 world ')).toBe(textPoint('hello world'));
    expect(textPoint('hello world')).not.toBe(textPoint('hello  world!'));
    const texts = Array.from({ length: 500 }, (_, i) => `text number ${i}`);
    expect(texts.map((t) => sampled(t, 0.3))).toEqual(texts.map((t) => sampled(t, 0.3)));
    expect(sampled('x', 0)).toBe(false);
    expect(sampled('x', 1)).toBe(true);
  });

  it('gives independent draws for different salts and nests rates', () => {
    let both = 0;
    let a = 0;
    for (let i = 0; i < 10_000; i++) {
      const t = `sentence ${i}`;
      const x = sampled(t, 0.2);
      const y = sampled(t, 0.2, 'asr');
      if (x) a++;
      if (x && y) both++;
      // A text in at 5% is in at 20% too: raising the rate only adds texts.
      if (sampled(t, 0.05)) expect(x).toBe(true);
    }
    expect(both / a).toBeGreaterThan(0.15);
    expect(both / a).toBeLessThan(0.25);
  });
});

describe('shadow budget', () => {
  it('caps concurrent mirrors per canary and releases idempotently', () => {
    const b = new ShadowBudget();
    const r1 = b.tryAcquire('c', 2)!;
    const r2 = b.tryAcquire('c', 2)!;
    expect(b.tryAcquire('c', 2)).toBeUndefined();
    expect(b.tryAcquire('other', 2)).toBeDefined();
    r1();
    r1();
    expect(b.active('c')).toBe(1);
    expect(b.tryAcquire('c', 2)).toBeDefined();
    r2();
  });
});
