/**
 * The plan's long-text policy for a text over its `max_text_chars`: `segment` and `reject` answer
 * 413 `text_too_long`; `truncate` cuts at the last sentence boundary within the limit (falling
 * back to a word boundary, then a hard cut), marked `x-truncated: true` with `x-spoken-chars`.
 * A cut that would leave only whitespace is refused like an over-long text under `reject`.
 * Under the limit the whole text is spoken whatever its length: the streaming path splits it into
 * segments of what one node request takes (stream/segmenter.ts).
 * @module
 */
import { textLength } from '../../../../protocol/text-length.ts';
import { GatewayError } from '../../errors/gateway-error.ts';

const SENTENCE_END = /[.!?。！？；;…]["'”’)\]]*\s*/g;

export function cutAtSentence(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const head = chars.slice(0, max).join('');
  let cut = -1;
  for (const m of head.matchAll(SENTENCE_END)) cut = m.index + m[0].length;
  if (cut > 0) return head.slice(0, cut).trimEnd();
  const space = head.lastIndexOf(' ');
  return (space > max / 2 ? head.slice(0, space) : head).trimEnd();
}

export function applyTextPolicy(text: string, max: number, policy: 'reject' | 'truncate' | 'segment'): { text: string; truncated: boolean } {
  // Code points, the one way the node counts too (protocol/text-length.ts).
  const length = textLength(text);
  if (length <= max) return { text, truncated: false };
  if (policy !== 'truncate') throw new GatewayError('VOX_ERR_TEXT_TOO_LONG', `text has ${length} characters; this plan allows ${max}`);
  const cut = cutAtSentence(text, max);
  // A node refuses empty text (400), so a cut that kept only whitespace is the client's 413.
  if (cut.trim().length === 0)
    throw new GatewayError('VOX_ERR_TEXT_TOO_LONG', `text has ${length} characters and its first ${max} are only whitespace; this plan allows ${max}`);
  return { text: cut, truncated: true };
}
