/**
 * Splits text into sentences for engines that speak a sentence at a time (flite streams one
 * sentence per chunk) and for anything else that needs sentence-sized pieces.
 *
 * Guarantees, relied on by the callers:
 * - The pieces concatenated give back the input exactly (whitespace after a sentence belongs
 *   to it), so character counts and offsets stay meaningful.
 * - A piece is cut only after sentence-ending punctuation — Chinese `。！？…` always, Latin
 *   `. ! ?` when followed by a space, a line end or a CJK character — or at a blank line. Never
 *   inside a number (`3.14`, `1,000.5`, `12:30`), a URL, an e-mail address or a tag (`<break/>`,
 *   `[uv_break]`), and not after common abbreviations (`Dr.`, `e.g.`) or initials (`J. Smith`).
 * - With `maxChars`, a sentence longer than that is cut again at the last clause mark (`,` `，`
 *   `、` `;` `：`…) that fits, else at the last space, else hard at the limit (never inside a
 *   protected span or a surrogate pair). A protected span longer than the limit stays whole.
 * - Every piece holds a letter or digit, except when the whole input has none: punctuation-only
 *   runs join the piece before them.
 * - Pure function of its input: the same text always gives the same pieces.
 * @module
 */

export interface SentenceSplitOptions {
  /** Longest piece wanted, in UTF-16 code units; longer sentences are cut at clauses. */
  maxChars?: number;
}

const CJK_TERMINATORS = new Set(['。', '！', '？', '…', '‥', '．', '｡']);
const LATIN_TERMINATORS = new Set(['.', '!', '?']);
/** Closing quotes and brackets that stay with the sentence they close. */
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '}', '」', '』', '）', '》', '〉', '】', '〕']);
const CLAUSE_MARKS = new Set([',', ';', ':', '，', '、', '；', '：', '—']);
/** Lower-case, without the final dot. Kept short: the common titles and Latin shorthands. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'cf',
  'no',
  'fig',
  'inc',
  'ltd',
  'co',
  'corp',
  'approx',
  'dept',
  'est',
  'vol',
]);

const PROTECTED = [
  // URLs: a trailing dot, comma or bracket is the sentence's, not the URL's; CJK punctuation never belongs to one here
  /\b(?:https?:\/\/|www\.)[^\s<>"'，。！？]*[^\s<>"'，。！？.,!?;:)\]]/giu,
  /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/gu, // e-mail addresses
  /<[^<>\n]{1,200}>/gu, // SSML-style tags
  /\[[^[\]\n]{1,100}\]/gu, // control tokens such as [uv_break], [laugh]
  /\d+(?:[.,:]\d+)+/gu, // decimals, thousands, times, versions
];

const WORD = /[\p{L}\p{N}]/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const LOWER_LATIN = /[a-z]/;
const SPACE = /\s/;

/**
 * @example
 * splitSentences('Dr. Smith paid $3.50. Then he left! 你好。再见？')
 * // → ['Dr. Smith paid $3.50. ', 'Then he left! ', '你好。', '再见？']
 */
export function splitSentences(text: string, options: SentenceSplitOptions = {}): string[] {
  if (text.length === 0) return [];
  const guarded = protectedMask(text);
  const cuts = sentenceCuts(text, guarded);
  const ranges = mergeWordless(text, toRanges(cuts, text.length));
  const maxChars = options.maxChars;
  const out: string[] = [];
  for (const [start, end] of ranges) {
    if (maxChars === undefined || end - start <= maxChars) out.push(text.slice(start, end));
    else for (const [s, e] of splitLong(text, guarded, start, end, maxChars)) out.push(text.slice(s, e));
  }
  return out;
}

function protectedMask(text: string): Uint8Array {
  const mask = new Uint8Array(text.length);
  for (const pattern of PROTECTED) {
    for (const match of text.matchAll(pattern)) mask.fill(1, match.index, match.index + match[0].length);
  }
  return mask;
}

/** Positions where a new sentence starts (exclusive of 0 and text.length). */
function sentenceCuts(text: string, guarded: Uint8Array): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (guarded[i]) continue;
    const ch = text[i]!;
    if (CJK_TERMINATORS.has(ch)) {
      const end = skipSpaces(text, absorbClosers(text, i + 1));
      if (end < text.length) cuts.push(end);
      i = end - 1;
    } else if (LATIN_TERMINATORS.has(ch)) {
      const after = absorbClosers(text, i + 1);
      if (after >= text.length) break;
      const next = text[after]!;
      if (CJK.test(next)) {
        cuts.push(after);
      } else if (SPACE.test(next)) {
        const start = skipSpaces(text, after);
        const following = text[start];
        const continues = following === undefined || LOWER_LATIN.test(following) || (ch === '.' && isAbbreviation(text, i));
        if (!continues) cuts.push(start);
      }
      i = after - 1;
    } else if (ch === '\n') {
      const start = skipSpaces(text, i + 1);
      if (start < text.length && text.slice(i + 1, start).includes('\n')) cuts.push(start);
      i = Math.max(i, start - 1);
    }
  }
  return cuts;
}

function absorbClosers(text: string, from: number): number {
  let j = from;
  while (j < text.length && (CLOSERS.has(text[j]!) || LATIN_TERMINATORS.has(text[j]!) || CJK_TERMINATORS.has(text[j]!))) j++;
  return j;
}

function skipSpaces(text: string, from: number): number {
  let j = from;
  while (j < text.length && SPACE.test(text[j]!)) j++;
  return j;
}

/** The word before the dot at `dot` is a known abbreviation, an initial or a dotted acronym. */
function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}.]/u.test(text[start - 1]!)) start--;
  const word = text.slice(start, dot);
  if (word.length === 0) return false;
  if (word.length === 1) return /\p{Lu}/u.test(word);
  return ABBREVIATIONS.has(word.toLowerCase()) || /^(?:\p{L}\.)+\p{L}$/u.test(word);
}

function toRanges(cuts: number[], length: number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  for (const cut of cuts) {
    if (cut > start) ranges.push([start, cut]);
    start = cut;
  }
  ranges.push([start, length]);
  return ranges;
}

/** A piece with nothing to pronounce joins its predecessor (or, first, its successor). */
function mergeWordless(text: string, ranges: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const range of ranges) {
    const last = out[out.length - 1];
    if (last && (!WORD.test(text.slice(...range)) || !WORD.test(text.slice(...last)))) last[1] = range[1];
    else out.push([range[0], range[1]]);
  }
  return out;
}

function splitLong(text: string, guarded: Uint8Array, start: number, end: number, maxChars: number): [number, number][] {
  const out: [number, number][] = [];
  let from = start;
  while (end - from > maxChars) {
    const cut = bestCut(text, guarded, from, from + maxChars);
    out.push([from, cut]);
    from = cut;
  }
  out.push([from, end]);
  return out;
}

/** Where to cut a piece starting at `from` so it ends at or before `limit`; always > from. */
function bestCut(text: string, guarded: Uint8Array, from: number, limit: number): number {
  const floor = from + Math.floor((limit - from) / 3); // a clause cut shorter than this leaves a tiny piece
  for (let i = limit - 1; i >= floor; i--) {
    if (!guarded[i] && CLAUSE_MARKS.has(text[i]!)) return skipSpaces(text, i + 1) <= limit ? skipSpaces(text, i + 1) : i + 1;
  }
  for (let i = limit - 1; i > from; i--) {
    if (!guarded[i] && SPACE.test(text[i]!)) return i + 1;
  }
  let cut = limit;
  if (guarded[cut] && guarded[cut - 1]) {
    // Inside a protected span: cut before it when something precedes it, else after its end.
    let spanStart = cut;
    while (spanStart > from && guarded[spanStart - 1]) spanStart--;
    if (spanStart > from) return spanStart;
    while (cut < text.length && guarded[cut]) cut++;
    return cut;
  }
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
  return cut;
}
