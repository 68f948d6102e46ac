/**
 * Sentence splitting for engines that stream a sentence at a time: after 。！？；… and after
 * . ! ? ; followed by a space, and at line breaks. A sentence longer than `maxChars` is cut
 * after a comma, else after a space, else hard, so one piece never holds an engine for long.
 * @module
 */
const END = /(?<=[。！？；…])|(?<=[.!?;]\s)|\n+/u;
const SOFT = [/(?<=[，、,：:])/u, /(?<=\s)/u];

/**
 * @example
 * splitSentences('你好。Hello there! 再见') // ['你好。', 'Hello there!', '再见']
 */
export function splitSentences(text: string, maxChars = 200): string[] {
  return text
    .split(END)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .flatMap((s) => cut(s, maxChars));
}

function cut(piece: string, maxChars: number): string[] {
  if (piece.length <= maxChars) return [piece];
  for (const boundary of SOFT) {
    const parts = piece.split(boundary);
    if (parts.length < 2) continue;
    const out: string[] = [];
    let cur = '';
    for (const part of parts) {
      if (cur.length > 0 && cur.length + part.length > maxChars) {
        out.push(cur.trim());
        cur = '';
      }
      cur += part;
    }
    if (cur.trim().length > 0) out.push(cur.trim());
    if (out.length > 1) return out.flatMap((o) => cut(o, maxChars));
  }
  const out: string[] = [];
  for (let i = 0; i < piece.length; i += maxChars) out.push(piece.slice(i, i + maxChars));
  return out;
}
