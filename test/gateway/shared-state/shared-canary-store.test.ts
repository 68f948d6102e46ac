import { afterEach, describe, expect, it } from 'vitest';
import { SharedCanaryStore } from '../../../gateway/src/canary/store/shared-canary-store.ts';
import type { PairRecord } from '../../../gateway/src/canary/store/pair-record.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { SharedState } from '../../../gateway/src/shared-state/redis-connection.ts';
import { hasRedis, startRedis, type RedisProcess } from '../../support/redis-server.ts';

const log = createLogger({ level: 'silent' });
const NONE = new Map<string, Map<string, number>>();

function pair(i: number, judged: boolean): PairRecord {
  return {
    canary: 'c',
    at: 1_000 + i,
    traceId: `t${String(i).padStart(4, '0')}`,
    textLength: 10,
    servedModel: 'base',
    configuredBaseline: true,
    outcome: 'ok',
    baselineLatencyMs: 100,
    canaryLatencyMs: 110,
    ...(judged ? { metrics: { distance: 0.1 } as unknown as NonNullable<PairRecord['metrics']> } : {}),
  };
}

describe.skipIf(!hasRedis())('the shared canary store on Redis', () => {
  let redis: RedisProcess | undefined;
  const states: SharedState[] = [];
  afterEach(async () => {
    for (const s of states.splice(0)) await s.close();
    await redis?.stop();
  });

  async function replica(url: string): Promise<SharedCanaryStore> {
    const state = new SharedState({ url, log });
    states.push(state);
    expect(await state.ready()).toBe(true);
    return new SharedCanaryStore(state);
  }

  it('gives every replica the same window and counters, bounded per kind, and a new replica all of it', async () => {
    redis = await startRedis();
    const [a, b] = [await replica(redis.url), await replica(redis.url)];
    const window = 10;
    // A pushes 15 unjudged and 3 judged pairs, B 15 unjudged; both count.
    await a.sync(
      {
        pairs: [...Array.from({ length: 15 }, (_, i) => pair(i, false)), ...[0, 1, 2].map((i) => pair(100 + i, true))],
        counts: new Map([['c', new Map([['eligible', 18]])]]),
      },
      ['c'],
      window,
    );
    await b.sync({ pairs: Array.from({ length: 15 }, (_, i) => pair(200 + i, false)), counts: new Map([['c', new Map([['eligible', 15]])]]) }, ['c'], window);
    const [va, vb] = [
      (await a.sync({ pairs: [], counts: NONE }, ['c'], window)).get('c')!,
      (await b.sync({ pairs: [], counts: NONE }, ['c'], window)).get('c')!,
    ];
    expect(va).toEqual(vb);
    expect(va.counters).toEqual({ eligible: 33 });
    // The 10 newest unjudged (all B's) and every judged pair: unjudged ones never push judged ones out.
    expect(va.pairs.filter((p) => p.metrics).map((p) => p.traceId)).toEqual(['t0100', 't0101', 't0102']);
    expect(va.pairs.filter((p) => !p.metrics).map((p) => p.traceId)).toEqual(Array.from({ length: 10 }, (_, i) => `t0${205 + i}`));
    // A replica started now (a restart) reads the same window at once.
    const c = await replica(redis.url);
    expect((await c.sync({ pairs: [], counts: NONE }, ['c'], window)).get('c')).toEqual(va);
  });

  it('writes verdict history from one replica at a time, a point per change or per interval', async () => {
    redis = await startRedis();
    const [a, b] = [await replica(redis.url), await replica(redis.url)];
    const point = (at: number, verdict: string) => ({ at, verdict, compared: 3, reasons: [] });
    expect(await a.addVerdict('c', point(1_000, 'hold'), 5_000, 3_000)).toBe(true);
    // B does not write while A holds the lease, whatever it judged.
    expect(await b.addVerdict('c', point(1_100, 'promote'), 5_000, 3_000)).toBe(false);
    // A: the same verdict within the interval is not a new point; a change is.
    expect(await a.addVerdict('c', point(2_000, 'hold'), 5_000, 3_000)).toBe(false);
    expect(await a.addVerdict('c', point(2_500, 'promote'), 5_000, 3_000)).toBe(true);
    const view = (await b.sync({ pairs: [], counts: NONE }, ['c'], 10)).get('c')!;
    expect(view.history.map((p) => [p.at, p.verdict])).toEqual([
      [1_000, 'hold'],
      [2_500, 'promote'],
    ]);
    // The lease lapses when its holder stops renewing it: B takes over.
    expect(await b.addVerdict('c', point(9_000, 'promote'), 5_000, 3_000)).toBe(false);
    await new Promise((r) => setTimeout(r, 3_100));
    expect(await b.addVerdict('c', point(9_500, 'promote'), 5_000, 3_000)).toBe(true);
  });
});
