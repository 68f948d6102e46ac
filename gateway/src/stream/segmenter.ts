/**
 * Splits a text into segments that the gateway synthesises as separate node requests (in
 * parallel, resumed elsewhere when a node dies). Segments end at sentence boundaries — Latin
 * `. ! ? ;` followed by a space, Chinese/Japanese `。！？；…` anywhere, line breaks — and hold
 * at most `maxChars` (balanced, below); a sentence longer than that is split at a clause boundary
 * (`, ， 、 : ：`), then at a space, and only then hard. A boundary never falls inside a number
 * (`3.14`, `1,000`), a URL or e-mail address, or a tag (`<break/>`, `[uv_break]`), since the
 * node's text front end reads those as one unit. Joining the segments gives back the text
 * exactly (whitespace included): the segmenter never drops or adds a character.
 *
 * A segment exceeds `maxChars` only by the spaces after its last stop, when it is whitespace
 * and punctuation alone (joined to its neighbour: it has nothing to say on its own), or when it
 * is a protected span longer than `maxChars` (standing alone).
 *
 * A text of at most `maxChars` stays one segment: nodes stream each sentence as it is made, so
 * splitting a short text would only add requests.
 *
 * Segments of a longer text are balanced, not filled to the limit one after another: the
 * segments run `parallel` at a time, and the answer ends when its last segment does. Greedy
 * filling leaves a short last segment, and a count that is not a multiple of `parallel` leaves a
 * last round with idle slots, both a tail where the answer waits on one node. So the count is the
 * fewest segments of at most `maxChars`, rounded up to a multiple of `parallel` once there are
 * more than `parallel`, and the sentences are packed to the smallest length that still gives that
 * count (the longest segment as short as it can be).
 * @module
 */

export interface SegmentOptions {
  /** The longest segment, in UTF-16 code units (the node's per-request limit applies to it). */
  maxChars: number;
  /** Segments synthesised at once (the plan's `parallel_segments`; default 1). */
  parallel?: number;
}

/** Spans a boundary must not cut. */
const PROTECTED = [
  /\b(?:https?:\/\/|ftp:\/\/|www\.)[^\s<>"'，。！？、]+/giu, // URLs
  /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/gu, // e-mail addresses
  /<[^<>\n]{0,200}>/gu, // SSML-like tags
  /\[[^[\]\n]{0,64}\]/gu, // ChatTTS control tags ([uv_break], [laugh_0])
  /\d+(?:[.,:/-]\d+)+/gu, // 3.14, 1,000, 15:30, 2026-12-03
];

/** Latin abbreviations whose period ends no sentence. */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'jr', 'sr', 'inc', 'ltd', 'co']);

/** Sentence ends: a CJK stop anywhere; a Latin stop before a space or the end; a line break. */
const SENTENCE_END = /[。！？；…]+["'”’」』)）\]]*|[.!?;]+["'”’)\]]*(?=\s|$)|\n+/gu;
const CLAUSE_END = /[,，、:：]+(?=\s|[^\d]|$)|\s+/gu;

/**
 * @example
 * segmentText('One. Two. Three.', { maxChars: 8 }); // ['One. ', 'Two. ', 'Three.']
 */
export function segmentText(text: string, options: SegmentOptions): string[] {
  const max = Math.max(1, Math.floor(options.maxChars));
  if (text.length <= max) return [text];
  const units = sentenceUnits(text, max);
  const fewest = pack(units, max).length;
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  const count = fewest <= parallel ? fewest : Math.ceil(fewest / parallel) * parallel;
  // The greedy count only falls as the limit grows: the smallest limit giving `count` segments
  // (never above `max`: a protected span longer than it must not pull its neighbours past it).
  let lo = Math.min(max, Math.ceil(text.length / count));
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pack(units, mid).length <= count) hi = mid;
    else lo = mid + 1;
  }
  return mergeBlank(pack(units, lo));
}

/** The text's sentences, each over `max` split further (clause, space, hard cut). */
function sentenceUnits(text: string, max: number): string[] {
  const blocked = protectedMask(text);
  return cutAt(text, boundaries(text, SENTENCE_END, blocked, true)).flatMap(({ text: sentence, start }) =>
    sentence.length <= max ? [sentence] : splitLong(sentence, max, blocked.subarray(start, start + sentence.length + 1)),
  );
}

/** Units packed greedily into segments of at most `limit` (a longer unit stands alone). */
function pack(units: readonly string[], limit: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const unit of units) {
    if (current && current.length + unit.length > limit) {
      out.push(current);
      current = '';
    }
    current += unit;
  }
  if (current) out.push(current);
  return out;
}

/** One flag per code unit: true where a boundary may not fall (inside a protected span). */
function protectedMask(text: string): Uint8Array {
  const mask = new Uint8Array(text.length + 1);
  for (const re of PROTECTED)
    for (const m of text.matchAll(re)) {
      // A URL or number may end in a sentence stop ("see example.com." / "3."): that stop is no part of it.
      let end = m.index + m[0].length;
      while (end > m.index + 1 && /[.,;:!?]/.test(text[end - 1]!)) end -= 1;
      for (let i = m.index + 1; i < end; i++) mask[i] = 1;
    }
  return mask;
}

/** Cut positions (end of each match, with following spaces kept on the left piece). */
function boundaries(text: string, re: RegExp, blocked: Uint8Array, sentence: boolean): number[] {
  const cuts: number[] = [];
  for (const m of text.matchAll(re)) {
    let end = m.index + m[0].length;
    if (blocked[m.index] || blocked[end]) continue;
    if (sentence && m[0].startsWith('.') && isAbbreviation(text, m.index)) continue;
    while (end < text.length && /[ \t\u3000]/.test(text[end]!)) end += 1;
    if (end > 0 && end < text.length) cuts.push(end);
  }
  return cuts;
}

function isAbbreviation(text: string, dot: number): boolean {
  const word = /([\p{L}.]+)$/u.exec(text.slice(Math.max(0, dot - 8), dot))?.[1]?.toLowerCase();
  return word !== undefined && (ABBREVIATIONS.has(word) || (/^\p{Lu}$/u.test(text[dot - 1] ?? '') && word.length === 1));
}

function cutAt(text: string, cuts: number[]): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let from = 0;
  for (const c of cuts) {
    if (c <= from) continue;
    out.push({ text: text.slice(from, c), start: from });
    from = c;
  }
  if (from < text.length) out.push({ text: text.slice(from), start: from });
  return out;
}

/** A sentence over `max`: clause boundaries, then spaces, then a hard cut outside protected spans. */
function splitLong(sentence: string, max: number, local: Uint8Array): string[] {
  const clauseCuts = boundaries(sentence, CLAUSE_END, local, false);
  const out: string[] = [];
  let from = 0;
  while (sentence.length - from > max) {
    const limit = from + max;
    let cut = -1;
    for (const c of clauseCuts) if (c > from && c <= limit) cut = c;
    if (cut < 0) {
      // Hard cut: the last position within the limit that is not inside a protected span and
      // does not split a surrogate pair. A protected span longer than `max` is cut after it.
      for (let c = limit; c > from; c--)
        if (!local[c] && !isLowSurrogate(sentence.charCodeAt(c))) {
          cut = c;
          break;
        }
      if (cut < 0) {
        cut = limit;
        while (cut < sentence.length && (local[cut] || isLowSurrogate(sentence.charCodeAt(cut)))) cut += 1;
      }
    }
    out.push(sentence.slice(from, cut));
    from = cut;
  }
  if (from < sentence.length) out.push(sentence.slice(from));
  return out;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A segment of only whitespace or punctuation has nothing to say: it joins its predecessor. */
function mergeBlank(segments: string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (out.length > 0 && !/[\p{L}\p{N}]/u.test(s)) out[out.length - 1] += s;
    else out.push(s);
  }
  if (out.length > 1 && !/[\p{L}\p{N}]/u.test(out[0]!)) {
    out[1] = out[0]! + out[1]!;
    out.shift();
  }
  return out;
}
