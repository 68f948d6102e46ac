/**
 * Drawing a load-aware balancer's candidates without scanning the region (Envoy least-request's
 * `choice_count`): draw uniformly at random from the whole list and keep the draws that pass
 * `accept` until there are `count` distinct ones. Rejection keeps the draw uniform over the
 * acceptable nodes, so p2c over the drawn pair is p2c over the region. When most of the list is
 * unacceptable (tried, unavailable, over the try budget) the draws keep failing; after
 * `MAX_DRAWS` it gives up and the caller scans instead, which is then the cheaper way anyway.
 * @module
 */
const MAX_DRAWS = 16;

/**
 * @example
 * const pair = sample(region.fresh, 2, (e) => !tried.has(e.id)) ?? region.fresh.filter((e) => !tried.has(e.id));
 */
export function sample<T>(list: readonly T[], count: number, accept: (item: T) => boolean, random: () => number = Math.random): T[] | undefined {
  const n = list.length;
  // No more than asked for: every acceptable one is the answer, no draw needed.
  if (n <= count) return list.filter(accept);
  const picked: T[] = [];
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const item = list[Math.floor(random() * n) % n]!;
    if (picked.includes(item) || !accept(item)) continue;
    picked.push(item);
    if (picked.length === count) return picked;
  }
  return undefined;
}
