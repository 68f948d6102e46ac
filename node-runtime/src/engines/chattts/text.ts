/**
 * Text front-end (spec §4.1, §4.2): sentence splitting, language detection, zh punctuation
 * widening and the invalid-character pass of upstream's Normalizer with no registered normaliser.
 *
 * Deliberate differences from upstream: sentences also end at ! ? ！ ？ (upstream splits only after
 * `。` and `. `, leaving long runs in one segment, which degrades past ~30 s — spec §13.2), and
 * digits are spelled out (upstream silently deletes them when no NeMo/WeText normaliser is
 * registered). Homophone replacement is not applied: the map is a property of the released
 * tokenizer's training data and is not part of a pack.
 * @module
 */

const CJK = /[\u4e00-\u9fff]/g;
const EN_WORD = /\b[A-Za-z]+\b/g;
const TAG = /\[[\w_]+\]/g;

const ZH_WIDEN: Record<string, string> = {
  '!': '！', '"': '“', "'": '‘', '#': '＃', $: '＄', '%': '％', '&': '＆', '(': '（', ')': '）', ',': '，',
  '-': '－', '*': '＊', '+': '＋', '.': '。', '/': '／', ':': '：', ';': '；', '<': '＜', '=': '＝', '>': '＞',
  '?': '？', '@': '＠', '\\': '＼', '^': '＾', '`': '｀', '{': '｛', '|': '｜', '}': '｝', '~': '～',
};

const SIMPLIFY: Record<string, string> = {
  '：': '，', '；': '，', '（': '，', '）': '，', '【': '，', '】': '，', '『': '，', '』': '，', '「': '，', '」': '，',
  '《': '，', '》': '，', '－': '，', '！': '。', ':': ',', ';': ',', '(': ',', ')': ',', '>': ',', '<': ',', '-': ',',
  '!': '.',
};

/** Characters the model was trained on; everything else is mapped or dropped (spec §4.1 step 2). */
const VALID = /[\u4e00-\u9fffA-Za-z，。、,. ]/;

export type Lang = 'zh' | 'en';

export function detectLang(text: string): Lang {
  return (text.match(CJK)?.length ?? 0) > (text.match(EN_WORD)?.length ?? 0) ? 'zh' : 'en';
}

/** Longest piece sent to the GPT at once; beyond ~30 s of audio ChatTTS drops words (spec §13.2). */
export const MAX_PIECE_CHARS = 120;

/**
 * Splits after sentence-final punctuation or at newlines; empty pieces are dropped. A piece
 * longer than MAX_PIECE_CHARS is further cut after commas (or, failing that, spaces).
 */
export function splitSentences(text: string, maxChars = MAX_PIECE_CHARS): string[] {
  const pieces = text.includes('\n') ? text.split('\n') : text.split(/(?<=[。！？])|(?<=[.!?]\s)/);
  return pieces.map((p) => p.trim()).filter((p) => p.length > 0).flatMap((p) => cutLong(p, maxChars));
}

function cutLong(piece: string, maxChars: number): string[] {
  if (piece.length <= maxChars) return [piece];
  for (const boundary of [/(?<=[，、；,;])/, /(?<=\s)/]) {
    const parts = piece.split(boundary);
    if (parts.length < 2) continue;
    const out: string[] = [];
    let cur = '';
    for (const part of parts) {
      if (cur && (cur + part).trim().length > maxChars) {
        out.push(cur.trim());
        cur = '';
      }
      cur += part;
    }
    if (cur.trim()) out.push(cur.trim());
    return out.flatMap((o) => (o.length > maxChars && o !== piece ? cutLong(o, maxChars) : [o]));
  }
  // No boundary at all (e.g. a run of CJK without punctuation): hard cuts.
  const out: string[] = [];
  for (let i = 0; i < piece.length; i += maxChars) out.push(piece.slice(i, i + maxChars));
  return out;
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven',
  'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ZH_DIGITS = '零一二三四五六七八九';

function englishNumber(n: number): string {
  if (n < 20) return ONES[n]!;
  if (n < 100) return TENS[Math.floor(n / 10)]! + (n % 10 ? ` ${ONES[n % 10]}` : '');
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${englishNumber(n % 100)}` : ''}`;
  for (const [size, name] of [[1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']] as const) {
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
export function normalizeText(text: string, lang: Lang = detectLang(text)): string {
  let t = outsideTags(text, (s) => spellDigits(s, lang));
  if (lang === 'zh') t = outsideTags(t, (s) => Array.from(s, (c) => ZH_WIDEN[c] ?? c).join(''));
  const plain = t.replace(TAG, '');
  if (Array.from(plain).some((c) => !VALID.test(c))) {
    t = outsideTags(t, (s) => Array.from(s, (c) => SIMPLIFY[c] ?? c).filter((c) => VALID.test(c)).join(''));
  }
  return t.replace(/\s+/g, ' ').trim();
}
