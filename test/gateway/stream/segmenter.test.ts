import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { segmentText } from '../../../gateway/src/stream/segmenter.ts';

describe('segmentText', () => {
  const cases: { name: string; text: string; max: number; want: string[] }[] = [
    { name: 'short text stays one segment', text: 'Hello there. How are you?', max: 100, want: ['Hello there. How are you?'] },
    { name: 'Latin sentences packed up to the limit', text: 'One two. Three four. Five six.', max: 21, want: ['One two. Three four. ', 'Five six.'] },
    { name: 'each sentence alone when two do not fit', text: 'One two. Three four. Five six.', max: 12, want: ['One two. ', 'Three four. ', 'Five six.'] },
    {
      name: 'Chinese stops without spaces',
      text: '你好，欢迎使用。今天天气很好！我们走吧？',
      max: 8,
      want: ['你好，欢迎使用。', '今天天气很好！', '我们走吧？'],
    },
    { name: 'mixed Chinese and English', text: 'Please call 张伟. 他在北京。See you.', max: 16, want: ['Please call 张伟. ', '他在北京。See you.'] },
    { name: 'never inside a decimal number', text: 'Pi is 3.14159 roughly. Yes.', max: 12, want: ['Pi is ', '3.14159 ', 'roughly. ', 'Yes.'] },
    { name: 'never inside a URL', text: 'Go to https://example.com/a.b?c=1. Then stop.', max: 36, want: ['Go to https://example.com/a.b?c=1. ', 'Then stop.'] },
    {
      name: 'never inside a tag',
      text: 'Wait [uv_break] now. Then <break time="1.5s"/> go.',
      max: 21,
      want: ['Wait [uv_break] now. ', 'Then ', '<break time="1.5s"/> ', 'go.'],
    },
    { name: 'abbreviations end no sentence', text: 'Mr. Smith met Dr. Jones. They talked.', max: 26, want: ['Mr. Smith met Dr. Jones. ', 'They talked.'] },
    { name: 'long sentence split at a clause', text: 'first part, second part, third part.', max: 14, want: ['first part, ', 'second part, ', 'third part.'] },
    { name: 'line breaks are boundaries', text: 'Line one\nLine two\n', max: 10, want: ['Line one\n', 'Line two\n'] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const got = segmentText(c.text, { maxChars: c.max });
      expect(got).toEqual(c.want);
      expect(got.join('')).toBe(c.text);
    });

  it('balances a long text: no short last segment, the longest as short as the count allows', () => {
    // 20 sentences of 30 characters, limit 250: greedy filling gives 240, 240, 120.
    const text = Array.from({ length: 20 }, (_, i) => `Sentence ${String(i).padStart(2, '0')} says a few words. `).join('');
    const got = segmentText(text, { maxChars: 250 });
    expect(got.join('')).toBe(text);
    expect(got.map((s) => s.length)).toEqual([210, 210, 180]);
  });

  it('rounds the count up to a multiple of `parallel` once there are more segments than slots', () => {
    const text = Array.from({ length: 90 }, (_, i) => `Sentence ${String(i).padStart(2, '0')} says a few words. `).join('');
    // 2,700 characters at 600: five segments at the least; four at once → eight of about 340.
    const got = segmentText(text, { maxChars: 600, parallel: 4 });
    expect(got.join('')).toBe(text);
    expect(got).toHaveLength(8);
    for (const s of got) expect(s.length).toBeLessThanOrEqual(360);
    // Fewer segments than slots: all run at once, so the count stays the fewest.
    expect(segmentText(text.slice(0, 900), { maxChars: 600, parallel: 4 })).toHaveLength(2);
    expect(segmentText(text, { maxChars: 600 })).toHaveLength(5);
  });

  it('a protected span longer than the limit stands alone and pulls no neighbour past the limit', () => {
    const url = `https://example.com/${'a'.repeat(200)}`;
    const text = `${url} ${'Short words here. '.repeat(6)}`;
    const got = segmentText(text, { maxChars: 60 });
    expect(got.join('')).toBe(text);
    expect(got[0]!.trimEnd()).toBe(url);
    for (const s of got.slice(1)) expect(s.length).toBeLessThanOrEqual(60);
  });

  it('a hard cut never splits a surrogate pair', () => {
    const text = '😀'.repeat(20);
    const got = segmentText(text, { maxChars: 7 });
    expect(got.join('')).toBe(text);
    for (const s of got) expect(s.length % 2).toBe(0);
  });

  it('property: segments join back to the text, none empty, none much over the limit', () => {
    const piece = fc.constantFrom('Hello', ' ', '. ', '。', '你好', '3.14', 'https://a.b/c.d', '[uv_break]', ', ', '！', '\n', 'world', '?', 'Mr. ', '1,000');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }).map((p) => p.join('')),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 8 }),
        (text, max, parallel) => {
          const got = segmentText(text, { maxChars: max, parallel });
          expect(got.join('')).toBe(text);
          if (text.length > 0) for (const s of got) expect(s.length).toBeGreaterThan(0);
          // Over the limit only by trailing spaces/punctuation, or by a protected span (a URL here
          // can run up to ~60 characters when words follow it without a space).
          if (max >= 60) for (const s of got) expect(s.trimEnd().replace(/[\p{P}\s]+$/u, '').length).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 300 },
    );
  });
});
