/**
 * The text front end every engine gets: digits, dates, times, money, percentages, phone
 * numbers, units and common abbreviations spelled out as a Mandarin or an English listener
 * expects ("123" → 一百二十三 or "one hundred twenty-three"; "2026-12-03", "15:30", "¥38",
 * "50%"), so no engine reads "15:30" as "fifteen colon thirty" or drops digits it cannot say.
 *
 * The language of each match is the language of the nearest word before it (after it when it
 * leads), among the languages the pack speaks: in "Please call 张伟 at 3 pm" the 3 is English,
 * in "我有3个苹果" it is Chinese. Languages other than zh and en pass through unchanged.
 * @module
 */
import { SPEECH_RULES, type SpeechLang } from './speech-rules.ts';

const HAN = /\p{Script=Han}/u;
const LATIN = /\p{Script=Latin}/u;
const LETTER = /\p{L}/u;

/**
 * @param lang the pack's language, or its languages (`manifest.languages`): with both zh and
 *   en each match is read in the language of the words around it.
 * @example
 * normalizeForSpeech('会议在2026-12-03 15:30，门票¥38，打50%折。', 'zh')
 * // 会议在二〇二六年十二月三日 十五点三十分，门票三十八元，打百分之五十折。
 * normalizeForSpeech('It costs $12.50 at 3:05 pm.', ['en']) // It costs twelve dollars and fifty cents at three oh five p.m.
 */
export function normalizeForSpeech(text: string, lang: string | readonly string[]): string {
  const langs = (typeof lang === 'string' ? [lang] : lang).filter((l): l is SpeechLang => l === 'zh' || l === 'en');
  if (langs.length === 0) return text;
  const fallback = langs[0]!;
  const both = langs.includes('zh') && langs.includes('en');
  let out = text;
  for (const rule of SPEECH_RULES) {
    if (rule.only && !langs.includes(rule.only)) continue;
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      // replace() passes (match, ...captures, offset, whole, groups?): captures are never numbers.
      const i = args.findIndex((a) => typeof a === 'number');
      const offset = args[i] as number;
      const whole = args[i + 1] as string;
      const groups = (args[i + 2] ?? {}) as Record<string, string | undefined>;
      const at = rule.only ?? (both ? (languageAround(whole, offset, match.length) ?? fallback) : fallback);
      return rule.read[at](groups, match) ?? match;
    });
  }
  return out;
}

/** The script of the nearest letter before the match, else after it: zh for Han, en for Latin. */
function languageAround(text: string, offset: number, length: number): SpeechLang | undefined {
  // By code unit, without copying the text: this runs once per match on texts of thousands of
  // characters. (A lone surrogate half is no letter, so a rare supplementary-plane character is
  // skipped rather than misread.)
  for (let i = offset - 1; i >= 0; i--) {
    const lang = scriptOf(text[i]!);
    if (lang !== 'none') return lang;
  }
  for (let i = offset + length; i < text.length; i++) {
    const lang = scriptOf(text[i]!);
    if (lang !== 'none') return lang;
  }
  return undefined;
}

function scriptOf(ch: string): SpeechLang | undefined | 'none' {
  if (!LETTER.test(ch)) return 'none';
  return HAN.test(ch) ? 'zh' : LATIN.test(ch) ? 'en' : undefined;
}
