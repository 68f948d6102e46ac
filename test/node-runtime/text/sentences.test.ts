import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../../node-runtime/src/text/sentences.ts';

describe('splitSentences', () => {
  const cases: { name: string; text: string; pieces: string[] }[] = [
    { name: 'Latin sentences', text: 'Hello there. How are you? Fine!', pieces: ['Hello there. ', 'How are you? ', 'Fine!'] },
    { name: 'Chinese sentences, no spaces', text: '你好。今天天气很好！你呢？', pieces: ['你好。', '今天天气很好！', '你呢？'] },
    { name: 'mixed scripts', text: 'It works.然后呢？OK.', pieces: ['It works.', '然后呢？', 'OK.'] },
    {
      name: 'numbers stay whole',
      text: 'Pi is 3.14159 today. It cost 1,000.50 dollars at 12:30.',
      pieces: ['Pi is 3.14159 today. ', 'It cost 1,000.50 dollars at 12:30.'],
    },
    {
      name: 'URLs and e-mail stay whole',
      text: 'See https://example.com/a.b?x=1. Or mail a.b@c.org. Bye.',
      pieces: ['See https://example.com/a.b?x=1. ', 'Or mail a.b@c.org. ', 'Bye.'],
    },
    {
      name: 'tags stay whole',
      text: 'Wait <break time="1.5s"/> then. Go [uv_break] on! 好[laugh]。',
      pieces: ['Wait <break time="1.5s"/> then. ', 'Go [uv_break] on! ', '好[laugh]。'],
    },
    {
      name: 'abbreviations and initials',
      text: 'Dr. Smith met J. R. Tolkien, e.g. in the U.S. Army. Then they left.',
      pieces: ['Dr. Smith met J. R. Tolkien, e.g. in the U.S. Army. ', 'Then they left.'],
    },
    {
      name: 'closing quotes stay with their sentence',
      text: 'He said "stop." Then "go!" 她说：“好。”然后走了。',
      pieces: ['He said "stop." ', 'Then "go!" ', '她说：“好。”', '然后走了。'],
    },
    { name: 'ellipsis before lower case continues', text: 'Well... maybe not. Sure?! Yes.', pieces: ['Well... maybe not. ', 'Sure?! ', 'Yes.'] },
    { name: 'blank line ends a paragraph', text: 'Title\n\nBody line one\ncontinues here.', pieces: ['Title\n\n', 'Body line one\ncontinues here.'] },
    { name: 'punctuation-only pieces join the previous one', text: 'Yes. !!! No.', pieces: ['Yes. !!! ', 'No.'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pieces = splitSentences(c.text);
      expect(pieces).toEqual(c.pieces);
      expect(pieces.join('')).toBe(c.text);
    });
  }

  it('cuts overlong sentences at clauses, then spaces, never inside a number or URL', () => {
    const long = 'one two three, four five six, seven eight nine, ten eleven twelve, thirteen fourteen.';
    const pieces = splitSentences(long, { maxChars: 32 });
    expect(pieces.join('')).toBe(long);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(32);
    expect(pieces[0]).toBe('one two three, four five six, ');

    const words = 'word '.repeat(40);
    const byWords = splitSentences(words, { maxChars: 23 });
    expect(byWords.join('')).toBe(words);
    for (const p of byWords) expect(p).toMatch(/^(word )+$/);

    const url = `go ${'https://example.com/' + 'x'.repeat(60)} now`;
    const byUrl = splitSentences(url, { maxChars: 20 });
    expect(byUrl.join('')).toBe(url);
    expect(byUrl.some((p) => p.includes(`https://example.com/${'x'.repeat(60)}`))).toBe(true);

    const han = '长'.repeat(50);
    const byHan = splitSentences(han, { maxChars: 20 });
    expect(byHan.map((p) => p.length)).toEqual([20, 20, 10]);
  });

  it('is deterministic and total on odd input', () => {
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences('...')).toEqual(['...']);
    expect(splitSentences('no punctuation at all')).toEqual(['no punctuation at all']);
    const text = 'A. b. C! 😀. 數字 3.5。End';
    expect(splitSentences(text)).toEqual(splitSentences(text));
    expect(splitSentences(text).join('')).toBe(text);
  });
});
