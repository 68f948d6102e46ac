/**
 * Text front-end (spec §4.1, §4.2): sentence splitting, language detection, zh punctuation
 * widening and the invalid-character pass of upstream's Normalizer with no registered normaliser.
 *
 * Sentence splitting is upstream's; homophone replacement uses upstream's map when the pack carries
 * it (the exporter copies it from the user's ChatTTS checkout). Deliberate difference: digits are
 * spelled out (upstream silently deletes them when no NeMo/WeText normaliser is registered), and
 * runs of whitespace are collapsed.
 * @module
 */

const CJK = /[\u4e00-\u9fff]/g;
const EN_WORD = /\b[A-Za-z]+\b/g;
const TAG = /\[[\w_]+\]/g;

const ZH_WIDEN: Record<string, string> = {
  '!': '！',
  '"': '“',
  "'": '‘',
  '#': '＃',
  $: '＄',
  '%': '％',
  '&': '＆',
  '(': '（',
  ')': '）',
  ',': '，',
  '-': '－',
  '*': '＊',
  '+': '＋',
  '.': '。',
  '/': '／',
  ':': '：',
  ';': '；',
  '<': '＜',
  '=': '＝',
  '>': '＞',
  '?': '？',
  '@': '＠',
  '\\': '＼',
  '^': '＾',
  '`': '｀',
  '{': '｛',
  '|': '｜',
  '}': '｝',
  '~': '～',
};

const SIMPLIFY: Record<string, string> = {
  '：': '，',
  '；': '，',
  '（': '，',
  '）': '，',
  '【': '，',
  '】': '，',
  '『': '，',
  '』': '，',
  '「': '，',
  '」': '，',
  '《': '，',
  '》': '，',
  '－': '，',
  '！': '。',
  ':': ',',
  ';': ',',
  '(': ',',
  ')': ',',
  '>': ',',
  '<': ',',
  '-': ',',
  '!': '.',
};

/** Characters the model was trained on; everything else is mapped or dropped (spec §4.1 step 2). */
const VALID = /[\u4e00-\u9fffA-Za-z，。、,. ]/;

export type Lang = 'zh' | 'en';

export function detectLang(text: string): Lang {
  return (text.match(CJK)?.length ?? 0) > (text.match(EN_WORD)?.length ?? 0) ? 'zh' : 'en';
}

/**
 * Upstream's rule (spec §4.2): at every newline when the text has one, otherwise after `。` and
 * after `.` followed by whitespace; empty pieces dropped. Longer texts are cut into segments by
 * the gateway before they reach a node, so no extra length rule is applied here.
 * @example
 * splitSentences('你好。今天好吗？Yes. OK') // ['你好。', '今天好吗？Yes.', 'OK']
 */
export function splitSentences(text: string): string[] {
  const pieces = text.includes('\n') ? text.split('\n') : text.split(/(?<=。)|(?<=\.\s)/);
  return pieces.map((p) => p.trim()).filter((p) => p.length > 0);
}

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ZH_DIGITS = '零一二三四五六七八九';

function englishNumber(n: number): string {
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? ` ${ONES[n % 10]}` : '');
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${englishNumber(n % 100)}` : ''}`;
  for (const [size, name] of [
    [1e9, 'billion'],
    [1e6, 'million'],
    [1e3, 'thousand'],
  ] as const) {
    if (n >= size) return `${englishNumber(Math.floor(n / size))} ${name}${n % size ? ` ${englishNumber(n % size)}` : ''}`;
  }
  return String(n);
}

function spellDigits(text: string, lang: Lang): string {
  return text.replace(/\d+/g, (m) => {
    if (lang === 'zh') return Array.from(m, (d) => ZH_DIGITS[Number(d)]).join('');
    return m.length <= 12 ? ` ${englishNumber(Number(m))} ` : Array.from(m, (d) => ONES[Number(d)]).join(' ');
  });
}

/** Applies `fn` to the text outside `[tags]` only. */
function outsideTags(text: string, fn: (s: string) => string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    out += fn(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + fn(text.slice(last));
}

/**
 * @example
 * normalizeText('Hello, world! 3 apples') // 'Hello, world. three apples'
 */
export function normalizeText(text: string, opts: { lang?: Lang; homophones?: ReadonlyMap<string, string> | undefined } = {}): string {
  const lang = opts.lang ?? detectLang(text);
  let t = outsideTags(text, (s) => spellDigits(s, lang));
  if (lang === 'zh') t = outsideTags(t, (s) => Array.from(s, (c) => ZH_WIDEN[c] ?? c).join(''));
  const plain = t.replace(TAG, '');
  const invalid = Array.from(plain).some((c) => !VALID.test(c));
  if (invalid) t = outsideTags(t, (s) => Array.from(s, (c) => SIMPLIFY[c] ?? c).join(''));
  // Upstream's order: character map, then homophones, then the reject pass.
  const map = opts.homophones;
  if (map && map.size > 0) t = Array.from(t, (c) => map.get(c) ?? c).join('');
  if (invalid)
    t = outsideTags(t, (s) =>
      Array.from(s)
        .filter((c) => VALID.test(c))
        .join(''),
    );
  return t.replace(/\s+/g, ' ').trim();
}
