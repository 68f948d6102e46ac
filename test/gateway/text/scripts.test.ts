import { describe, expect, it } from 'vitest';
import { charactersOf, detectLanguages, splitByLanguage } from '../../../gateway/src/text/scripts.ts';

describe('detectLanguages', () => {
  it.each([
    ['Hello, world.', ['en']],
    ['你好，欢迎使用语音合成服务。', ['zh']],
    ['Please call 张伟 at the Beijing office tomorrow morning.', ['en', 'zh']],
    ['今日はいい天気ですね', ['ja']],
    ['カタカナ', ['ja']],
    ['안녕하세요', ['ko']],
    ['Привет, мир', ['ru']],
    ['Καλημέρα', ['el']],
    ['สวัสดีครับ', ['th']],
    ['مرحبا', ['ar']],
    ['שלום', ['he']],
    ['नमस्ते', ['hi']],
    ['Café crème, naïve', ['en']],
    ['12345 !!! ¥38 50% 😀 —', []],
    ['', []],
    ['ᚠᚢᚦ', ['und']],
  ] as const)('%s → %j', (text, langs) => {
    expect([...detectLanguages(text)]).toEqual(langs);
  });
});

describe('splitByLanguage', () => {
  it('splits mixed text into en, zh, en runs; neutral characters stay with the run before them', () => {
    expect(splitByLanguage('Please call 张伟 at the Beijing office tomorrow morning.')).toEqual([
      { lang: 'en', text: 'Please call ' },
      { lang: 'zh', text: '张伟 ' },
      { lang: 'en', text: 'at the Beijing office tomorrow morning.' },
    ]);
  });

  it('keeps digits and punctuation inside a run, leading neutrals join the first run', () => {
    expect(splitByLanguage('我有3个苹果，OK? 2026年')).toEqual([
      { lang: 'zh', text: '我有3个苹果，' },
      { lang: 'en', text: 'OK? 2026' },
      { lang: 'zh', text: '年' },
    ]);
    expect(splitByLanguage('123 你好')).toEqual([{ lang: 'zh', text: '123 你好' }]);
    expect(splitByLanguage('12:30 !')).toEqual([{ lang: 'neutral', text: '12:30 !' }]);
    expect(splitByLanguage('')).toEqual([]);
  });

  it('covers every character exactly once, whatever the mix', () => {
    const text = '  Hi 你好 こんにちは 안녕 Привет สวัสดี 123 😀 end.';
    const runs = splitByLanguage(text);
    expect(runs.map((r) => r.text).join('')).toBe(text);
    // Han in a text with kana reads as Japanese kanji: 你好 joins the ja run.
    expect(runs.map((r) => r.lang)).toEqual(['en', 'ja', 'ko', 'ru', 'th', 'en']);
  });

  it('reads Han as Japanese in a text with kana', () => {
    expect(splitByLanguage('東京へ行きます')).toEqual([{ lang: 'ja', text: '東京へ行きます' }]);
  });
});

describe('charactersOf', () => {
  it('quotes the characters of one language, cut with … past the limit', () => {
    expect(charactersOf('Hello สวัสดีครับ world', 'th')).toBe('สวัสดีครับ');
    expect(charactersOf('ก'.repeat(30), 'th', 5)).toBe('กกกกก…');
  });
});
