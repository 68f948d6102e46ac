import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../gateway/src/config/load.ts';
import type { Language } from '../../../../gateway/src/config/schema.ts';
import { Latches } from '../../../../gateway/src/request-path/plan/hysteresis.ts';
import { selectModel } from '../../../../gateway/src/request-path/plan/model-select.ts';
import type { PoolView } from '../../../../gateway/src/request-path/plan/pool-view.ts';
import { baseConfig, deepMerge } from '../../../harness/config.ts';

const cfg = parseConfig(
  deepMerge(baseConfig(), {
    regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:1', models: ['flite-hd', 'flite-fast', 'zh-hd'] }] }],
    models: [...(baseConfig().models as object[]), { id: 'zh-hd', role: 'primary', engine: 'x', languages: ['zh', 'en'], voices: ['v'] }],
    plans: {
      ...(baseConfig().plans as object),
      zh: { policy: 'fallback_unless_idle', primary: 'zh-hd', fallback: 'flite-fast', max_text_chars: 100, rate_limit: { rps: 1, burst: 1 } },
    },
    degradation: { busy_enter_wait_ms: 1000, busy_exit_wait_ms: 400, idle_enter_utilization: 0.25, idle_exit_utilization: 0.5 },
  }),
);
const models = new Map(cfg.models.map((m) => [m.id, m]));
const view =
  (p: Partial<PoolView>, f: Partial<PoolView> = {}) =>
  (id: string): PoolView =>
    id === 'flite-fast' ? { available: 2, waitMs: 0, utilization: 0, ...f } : { available: 2, waitMs: 0, utilization: 0, ...p };

function choose(plan: string, v: (id: string) => PoolView, latches: Latches, language: Language = 'en') {
  return selectModel({ plan: cfg.plans[plan]!, models, languages: new Set([language]), role: undefined, view: v, latches, degradation: cfg.degradation });
}

describe('model choice by plan and load', () => {
  it('enterprise always gets the primary; the fallback only when no primary capacity anywhere', () => {
    const l = new Latches();
    expect(choose('enterprise', view({ waitMs: 60_000, utilization: 40 }), l).model.id).toBe('flite-hd');
    const c = choose('enterprise', view({ available: 0, waitMs: Infinity }), l);
    expect([c.model.id, c.degraded]).toEqual(['flite-fast', 'primary_unavailable']);
  });

  it('pro degrades when the estimated wait passes 1000 ms and recovers only below 400 ms (hysteresis)', () => {
    const l = new Latches();
    const waits = [0, 900, 1100, 900, 500, 401, 399, 900, 1001];
    const got = waits.map((w) => choose('pro', view({ waitMs: w }), l).model.id === 'flite-fast');
    expect(got).toEqual([false, false, true, true, true, true, false, false, true]);
    expect(choose('pro', view({ waitMs: 2000 }), l).degraded).toBe('primary_busy');
  });

  it('a pool hovering at the threshold does not flap', () => {
    const l = new Latches();
    let switches = 0;
    let last = false;
    for (let i = 0; i < 200; i++) {
      const wait = 1000 + (i % 2 === 0 ? 30 : -30); // ±30 ms around the enter threshold
      const degraded = choose('pro', view({ waitMs: wait }), l).degraded !== undefined;
      if (degraded !== last) switches++;
      last = degraded;
    }
    expect(switches).toBe(1);
  });

  it('free gets the fallback, or the primary while the primary pool is idle (enter 0.25, exit 0.5)', () => {
    const l = new Latches();
    const utils = [0, 0.4, 0.6, 0.4, 0.2];
    expect(utils.map((u) => choose('free', view({ utilization: u }), l).model.id)).toEqual(['flite-hd', 'flite-hd', 'flite-fast', 'flite-fast', 'flite-hd']);
    expect(choose('free', view({ utilization: 0.9 }), l).degraded).toBeUndefined();
  });

  it('never routes to a model that cannot speak the language', () => {
    const l = new Latches();
    // the zh plan's fallback (flite-fast) speaks only en: a Chinese text goes to the primary even when free policy says fallback
    const busy = view({ utilization: 5, waitMs: 5000 });
    expect(choose('zh', busy, l, 'zh').model.id).toBe('zh-hd');
    // with the primary down, it is still never handed to the fallback
    expect(choose('zh', view({ available: 0, waitMs: Infinity, utilization: Infinity }), l, 'zh').model.id).toBe('zh-hd');
    // and a plan with no model for the language refuses it
    expect(() => choose('pro', busy, l, 'zh')).toThrow(expect.objectContaining({ code: 'VOX_ERR_UNSUPPORTED_LANGUAGE' }));
  });
});
