/**
 * How long a text is, the one way both the gateway and the node count it: Unicode code points.
 * UTF-16 units would make an emoji count twice on one side and once on the other, so a text the
 * gateway admitted could be refused by the node as too long.
 * @module
 */

/**
 * @example
 * textLength('😀😀') // 2 (UTF-16 `.length` would say 4)
 */
export function textLength(text: string): number {
  let n = 0;
  // for…of walks code points; a lone surrogate counts as one, like Array.from.
  for (const _ of text) n++;
  return n;
}
