/**
 * Speaker-string codecs and the text front-end. The LZMA2 cases were compressed by Python's
 * liblzma (FORMAT_RAW, FILTER_LZMA2, preset 9|extreme); the expected bytes are regenerated here
 * from the same formulas so the fixture holds only the compressed side.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase16384, encodeBase16384 } from '../../../../node-runtime/src/engines/chattts/base16384.ts';
import { decodeLzma2Raw } from '../../../../node-runtime/src/engines/chattts/lzma2.ts';
import { codePrompt, refinePrompt, speedToken } from '../../../../node-runtime/src/engines/chattts/prompt.ts';
import { createRng } from '../../../../node-runtime/src/engines/chattts/rng.ts';
import { halfToFloat, normalizeSpeaker, randomSpeaker, roundToHalf } from '../../../../node-runtime/src/engines/chattts/speaker.ts';
import { detectLang, normalizeText, splitSentences } from '../../../../node-runtime/src/engines/chattts/text.ts';

function generate(kind: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (kind === 'squares') for (let i = 0; i < n; i++) out[i] = (i * i) % 251;
  else if (kind === 'fox') {
    const s = Buffer.from('The quick brown fox jumps over the lazy dog. ');
    for (let i = 0; i < n; i++) out[i] = s[i % s.length]!;
  } else {
    let x = kind === 'lcg' ? 12345 : 7;
    for (let i = 0; i < n; i++) {
      x = Number((BigInt(x) * 1103515245n + 12345n) & 0x7fffffffn);
      out[i] = kind === 'lcg' ? (x >> 16) & 0xff : Buffer.from('abcde')[(x >> 16) % 5]!;
    }
  }
  return out;
}

describe('base16384', () => {
  it('round-trips every remainder length', () => {
    for (let n = 0; n < 40; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const s = encodeBase16384(data);
      expect(Buffer.from(decodeBase16384(s)).equals(Buffer.from(data)), `n=${n}`).toBe(true);
      if (n % 7) expect(s.codePointAt(s.length - 1)).toBe(0x3d00 + (n % 7));
    }
  });

  it('rejects characters outside the alphabet', () => {
    expect(() => decodeBase16384('abc')).toThrow(/outside/);
  });
});

describe('raw LZMA2', () => {
  const cases = JSON.parse(readFileSync(new URL('./lzma2-cases.json', import.meta.url), 'utf8')) as {
    kind: string;
    n: number;
    first_control: number;
    compressed: string;
  }[];
  for (const c of cases) {
    it(`decodes ${c.kind} × ${c.n} (first control 0x${c.first_control.toString(16)})`, () => {
      const out = decodeLzma2Raw(Buffer.from(c.compressed, 'base64'), 1 << 20);
      expect(Buffer.from(out).equals(Buffer.from(generate(c.kind, c.n)))).toBe(true);
    });
  }

  it('fails loudly on truncated or hostile input', () => {
    const fox = Buffer.from(cases.find((c) => c.kind === 'abcde')!.compressed, 'base64');
    expect(() => decodeLzma2Raw(fox.subarray(0, fox.length - 10))).toThrow();
    expect(() => decodeLzma2Raw(Buffer.from([0x02, 0x00, 0x00, 0x41, 0x00]))).toThrow(/reset the dictionary/);
    expect(() => decodeLzma2Raw(Buffer.from(cases.find((c) => c.kind === 'fox' && c.n === 200000)!.compressed, 'base64'), 1000)).toThrow(/exceeds/);
  });
});

describe('speaker helpers', () => {
  it('fp16 conversions agree', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(roundToHalf(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToHalf(0.1)).toBeCloseTo(0.0999755859375, 12);
  });

  it('random speakers are seeded and unit-norm after normalisation', () => {
    const stats = { std: new Float32Array(64).fill(3), mean: new Float32Array(64).fill(0.5) };
    const a = randomSpeaker(stats, createRng(5));
    const b = randomSpeaker(stats, createRng(5));
    const c = randomSpeaker(stats, createRng(6));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const n = normalizeSpeaker(a);
    // Normalised in fp16 as upstream: every value is a binary16 value, the norm 1 within fp16 error.
    expect(Math.hypot(...n)).toBeCloseTo(1, 3);
    for (const x of n) expect(roundToHalf(x)).toBe(x);
    const exact = Math.hypot(...a);
    const err = Math.max(...Array.from(n, (x, i) => Math.abs(x - a[i]! / exact)));
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(1e-3);
  });
});

describe('text front-end', () => {
  it('splits sentences as upstream: at newlines, else after 。 and after . followed by whitespace', () => {
    expect(splitSentences('你好。今天天气很好！是吗？')).toEqual(['你好。', '今天天气很好！是吗？']);
    expect(splitSentences('Hello there. How are you? Fine!')).toEqual(['Hello there.', 'How are you? Fine!']);
    expect(splitSentences('line one. still one\n\nline two')).toEqual(['line one. still one', 'line two']);
    expect(splitSentences('3.14 is pi')).toEqual(['3.14 is pi']);
    // No length rule: the gateway cuts long texts into segments before a node sees them.
    expect(splitSentences('word, '.repeat(100))).toHaveLength(1);
  });

  it('detects language and normalises like upstream with digits spelled out', () => {
    expect(detectLang('你好 world')).toBe('zh');
    expect(detectLang('hello world 你')).toBe('en');
    expect(normalizeText('Hello, world! 3 apples')).toBe('Hello, world. three apples');
    expect(normalizeText('你好!我有2个')).toBe('你好。我有二个');
    expect(normalizeText('keep [uv_break] tags (really)')).toBe('keep [uv_break] tags ,really,');
    expect(normalizeText('???')).toBe('');
  });

  it('replaces homophones with the pack map after the character map and before the reject pass', () => {
    const map = new Map([
      ['為', '位'],
      ['！', '?'],
    ]);
    expect(normalizeText('我為你', { homophones: map })).toBe('我位你');
    // The character map turns ！ into 。 first, so the map's entry for ！ never applies.
    expect(normalizeText('好！好', { homophones: map })).toBe('好。好');
    expect(normalizeText('我為你')).toBe('我為你');
  });

  it('builds prompts, strips injected structure and maps speed', () => {
    expect(codePrompt('[Stts]hi[spk_emb]', { prompt: '[speed_5]', withSpeaker: true })).toBe('[Stts][spk_emb][speed_5]hi[Ptts]');
    expect(codePrompt('hi', { prompt: '[speed_5]', withSpeaker: false })).toBe('[Stts][empty_spk][speed_5]hi[Ptts]');
    // Tags are stripped whatever their case, so text can never open a speaker slot.
    expect(codePrompt('a[SPK_EMB]b[Spk_Emb]c[EMPTY_SPK][stts]', { prompt: '', withSpeaker: true })).toBe('[Stts][spk_emb]abc[Ptts]');
    expect(refinePrompt('x[SBREAK]y', '[oral_2]')).toBe('[Sbreak]xy[Pbreak][oral_2]');
    expect(codePrompt('hi', { prompt: '[oral_2][speed_5]', speed: 2, withSpeaker: true })).toBe('[Stts][spk_emb][oral_2][speed_9]hi[Ptts]');
    expect(speedToken(1, 'x')).toBe('[speed_5]');
    expect(speedToken(0.5, 'x')).toBe('[speed_3]');
    expect(speedToken(undefined, '[speed_5]')).toBe('[speed_5]');
  });
});
