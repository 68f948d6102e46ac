/**
 * Which languages a text needs, from the scripts its letters are written in: a text is routed
 * only to models that speak every one of them, and a letter no model speaks is refused by name
 * instead of dropped (a 200 missing a name is a silent failure).
 *
 * Scripts map to the language a TTS model for that script speaks: Han → zh, kana → ja (Han in a
 * text that has kana is Japanese kanji), hangul → ko, Latin → en, Cyrillic → ru, Thai → th, …
 * Digits, punctuation, spaces, symbols and emoji are neutral: every language reads them.
 * A letter in a script not listed is `und` (undetermined), which no model speaks.
 * @module
 */

/** Languages detectable from script, plus `und` for letters of any other script. */
export const SCRIPT_LANGUAGES = [
  'zh',
  'en',
  'ja',
  'ko',
  'ru',
  'el',
  'ar',
  'he',
  'th',
  'hi',
  'bn',
  'ta',
  'te',
  'kn',
  'ml',
  'gu',
  'pa',
  'si',
  'ka',
  'hy',
  'am',
  'km',
  'lo',
  'my',
  'bo',
  'und',
] as const;
export type Lang = (typeof SCRIPT_LANGUAGES)[number];

/** English names, for error messages a person reads. */
export const LANGUAGE_NAMES: Record<Lang, string> = {
  zh: 'Chinese',
  en: 'English',
  ja: 'Japanese',
  ko: 'Korean',
  ru: 'Russian',
  el: 'Greek',
  ar: 'Arabic',
  he: 'Hebrew',
  th: 'Thai',
  hi: 'Hindi',
  bn: 'Bengali',
  ta: 'Tamil',
  te: 'Telugu',
  kn: 'Kannada',
  ml: 'Malayalam',
  gu: 'Gujarati',
  pa: 'Punjabi',
  si: 'Sinhala',
  ka: 'Georgian',
  hy: 'Armenian',
  am: 'Amharic',
  km: 'Khmer',
  lo: 'Lao',
  my: 'Burmese',
  bo: 'Tibetan',
  und: 'an unsupported script',
};

const SCRIPTS: [RegExp, Lang][] = [
  [/\p{Script=Latin}/u, 'en'],
  [/\p{Script=Han}/u, 'zh'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}ー]/u, 'ja'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/\p{Script=Cyrillic}/u, 'ru'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Devanagari}/u, 'hi'],
  [/\p{Script=Bengali}/u, 'bn'],
  [/\p{Script=Tamil}/u, 'ta'],
  [/\p{Script=Telugu}/u, 'te'],
  [/\p{Script=Kannada}/u, 'kn'],
  [/\p{Script=Malayalam}/u, 'ml'],
  [/\p{Script=Gujarati}/u, 'gu'],
  [/\p{Script=Gurmukhi}/u, 'pa'],
  [/\p{Script=Sinhala}/u, 'si'],
  [/\p{Script=Georgian}/u, 'ka'],
  [/\p{Script=Armenian}/u, 'hy'],
  [/\p{Script=Ethiopic}/u, 'am'],
  [/\p{Script=Khmer}/u, 'km'],
  [/\p{Script=Lao}/u, 'lo'],
  [/\p{Script=Myanmar}/u, 'my'],
  [/\p{Script=Tibetan}/u, 'bo'],
];
/** Letters (and the combining marks and digits of scripts, which stay with their run). */
const LETTER = /\p{L}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;

function scriptLanguage(ch: string, kanaText: boolean): Lang | 'neutral' {
  // Fast paths by code point for what nearly every request is made of (ASCII, common CJK).
  const c = ch.charCodeAt(0);
  if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? 'en' : 'neutral';
  if (c >= 0x4e00 && c <= 0x9fff) return kanaText ? 'ja' : 'zh';
  if (!LETTER.test(ch)) return 'neutral';
  for (const [re, lang] of SCRIPTS) if (re.test(ch)) return lang === 'zh' && kanaText ? 'ja' : lang;
  return 'und';
}

/**
 * The languages whose scripts occur in `text` (empty for digits and punctuation only).
 * @example
 * detectLanguages('Please call 张伟.') // Set { 'en', 'zh' }
 */
export function detectLanguages(text: string): Set<Lang> {
  const kanaText = KANA.test(text);
  const out = new Set<Lang>();
  let last: Lang | 'neutral' = 'neutral';
  // By code unit, not `for…of`: a request's text is mostly ASCII, and this runs on every request.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const lang = scriptLanguage(pair ? text.slice(i, i + 2) : text[i]!, kanaText);
    if (pair) i++;
    if (lang !== 'neutral' && lang !== last) out.add(lang);
    if (lang !== 'neutral') last = lang;
  }
  return out;
}

export interface LanguageRun {
  lang: Lang | 'neutral';
  text: string;
}

/**
 * Runs of one language, in order, covering every character exactly once. Neutral characters
 * join the run before them (so "张伟，" keeps its comma and "Room 12" its number); those that
 * lead the text join the first run. A text with no letters is one `neutral` run.
 * @example
 * splitByLanguage('Please call 张伟 at the office.')
 * // [{ lang: 'en', text: 'Please call ' }, { lang: 'zh', text: '张伟 ' }, { lang: 'en', text: 'at the office.' }]
 */
export function splitByLanguage(text: string): LanguageRun[] {
  const kanaText = KANA.test(text);
  const runs: LanguageRun[] = [];
  let lead = '';
  for (const ch of text) {
    const lang = scriptLanguage(ch, kanaText);
    const last = runs[runs.length - 1];
    if (lang === 'neutral') {
      if (last) last.text += ch;
      else lead += ch;
    } else if (last && last.lang === lang) last.text += ch;
    else {
      runs.push({ lang, text: lead + ch });
      lead = '';
    }
  }
  if (lead.length > 0) runs.push({ lang: 'neutral', text: lead });
  return runs;
}

/** The characters of `lang` in `text`, for an error message (at most `max`, with … when cut). */
export function charactersOf(text: string, lang: Lang, max = 24): string {
  const chars = splitByLanguage(text)
    .filter((r) => r.lang === lang)
    .map((r) => r.text.trim())
    .join(' ');
  const list = [...chars];
  return list.length > max ? `${list.slice(0, max).join('')}…` : chars;
}
