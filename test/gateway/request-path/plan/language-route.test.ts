/**
 * Model choice by language: per-language pairs (`plans.*.languages`), mixed texts to a model that
 * speaks every language, unspoken languages refused by name, and voices across languages.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../gateway/src/config/load.ts';
import { detectLanguages } from '../../../../gateway/src/text/scripts.ts';
import { Latches } from '../../../../gateway/src/request-path/plan/hysteresis.ts';
import { routeLanguages } from '../../../../gateway/src/request-path/plan/language-route.ts';
import { planRequest } from '../../../../gateway/src/request-path/plan/plan.ts';
import type { PoolView } from '../../../../gateway/src/request-path/plan/pool-view.ts';
import { baseConfig, deepMerge } from '../../../harness/config.ts';

const cfg = parseConfig(
  deepMerge(baseConfig(), {
    regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:1', models: ['flite-hd', 'flite-fast', 'zh-hd', 'zh-fast', 'zh-only'] }] }],
    models: [
      ...(baseConfig().models as object[]),
      { id: 'zh-hd', role: 'primary', engine: 'x', languages: ['zh', 'en'], voices: ['hd'] },
      { id: 'zh-fast', role: 'fallback', engine: 'x', languages: ['zh', 'en'], voices: ['mandarin', 'cantonese'] },
      { id: 'zh-only', role: 'fallback', engine: 'x', languages: ['zh'], voices: ['z'] },
    ],
    plans: {
      ...(baseConfig().plans as object),
      pro: {
        policy: 'primary_unless_busy',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 100,
        rate_limit: { rps: 1, burst: 1 },
        languages: { zh: { primary: 'zh-hd', fallback: 'zh-fast' } },
      },
      chattts: {
        policy: 'fallback_unless_idle',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 100,
        rate_limit: { rps: 1, burst: 1 },
        languages: { zh: { primary: 'zh-hd', fallback: 'zh-only' } },
      },
      split: {
        policy: 'primary_always',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 100,
        rate_limit: { rps: 1, burst: 1 },
        languages: { zh: { primary: 'zh-only', fallback: 'zh-only' } },
      },
    },
  }),
);
const models = new Map(cfg.models.map((m) => [m.id, m]));
const idle = (): PoolView => ({ available: 2, waitMs: 0, utilization: 0 });

function plan(planName: string, text: string, extra: { voice?: string; view?: (id: string) => PoolView } = {}) {
  return planRequest({
    input: { text, voice: extra.voice, format: 'wav', speed: undefined, seed: undefined, role: undefined },
    planName,
    language: detectLanguages(text),
    home: 'north',
    regionOrder: () => ['north'],
    config: cfg,
    models,
    view: extra.view ?? idle,
    latches: new Latches(),
  });
}

describe('model choice by language', () => {
  it('English goes to the plan’s own pair; Chinese to the zh pair, with the same policy', () => {
    expect(plan('pro', 'Hello there.').model.id).toBe('flite-hd');
    expect(plan('pro', '你好，欢迎使用语音合成服务。').model.id).toBe('zh-hd');
    const busy = (id: string): PoolView => (id === 'zh-hd' ? { available: 2, waitMs: 5000, utilization: 3 } : idle());
    const degraded = plan('pro', '你好。', { view: busy });
    expect([degraded.model.id, degraded.degraded]).toEqual(['zh-fast', ['primary_busy']]);
    // dispatch may switch within the pair: the effective plan names the zh pair
    expect([degraded.plan.primary, degraded.plan.fallback]).toEqual(['zh-hd', 'zh-fast']);
  });

  it('digits and punctuation alone go to the plan’s own pair', () => {
    expect(plan('pro', '12345 !!!').model.id).toBe('flite-hd');
  });

  it('a mixed text goes to a pair with a model that speaks every language', () => {
    const p = plan('pro', 'Please call 张伟 at the Beijing office tomorrow morning.');
    expect(p.model.id).toBe('zh-hd');
    expect(p.languages).toEqual(['en', 'zh']);
  });

  it('a mixed text never reaches the model of the pair that speaks only part of it, even on degrade', () => {
    const busy = (id: string): PoolView => (id === 'zh-hd' ? { available: 2, waitMs: 5000, utilization: 3 } : idle());
    const mixed = plan('chattts', 'Call 张伟 now.', { view: busy });
    expect(mixed.model.id).toBe('zh-hd');
    // dispatch switches between the effective pair only: both are the model that speaks en and zh
    expect([mixed.plan.primary, mixed.plan.fallback]).toEqual(['zh-hd', 'zh-hd']);
    // Chinese alone may use the cheaper Chinese-only model under the free policy
    expect(plan('chattts', '你好。', { view: busy }).model.id).toBe('zh-only');
  });

  it('refuses a language no model speaks, naming it and its characters', () => {
    expect(() => plan('pro', 'Hello สวัสดีครับ')).toThrow(
      expect.objectContaining({ code: 'VOX_ERR_UNSUPPORTED_LANGUAGE', message: expect.stringMatching(/Thai \(th: "สวัสดีครับ"\)/) }),
    );
  });

  it('says a mixed text must be split when its languages are spoken only by different models', () => {
    expect(routeLanguages(cfg.plans['split']!, models, new Set(['en', 'zh']))).toEqual({ kind: 'segments' });
    expect(() => plan('split', 'Call 张伟')).toThrow(
      expect.objectContaining({ code: 'VOX_ERR_UNSUPPORTED_LANGUAGE', message: expect.stringMatching(/split the text/) }),
    );
    expect(routeLanguages(cfg.plans['split']!, models, new Set(['zh'])).kind).toBe('single');
  });

  it('a voice of the plan’s own model is no error when the language routes elsewhere; an unknown voice is', () => {
    expect(plan('pro', '你好。', { voice: 'slt' }).voice).toBe('hd');
    const fallbackView = (id: string): PoolView => (id === 'zh-hd' ? { available: 0, waitMs: Infinity, utilization: Infinity } : idle());
    expect(plan('pro', '你好。', { voice: 'cantonese', view: fallbackView }).voice).toBe('cantonese');
    expect(() => plan('pro', '你好。', { voice: 'nobody' })).toThrow(expect.objectContaining({ code: 'VOX_ERR_UNKNOWN_VOICE' }));
  });

  it('config refuses a language pair whose models do not speak it', () => {
    const bad = deepMerge(baseConfig(), { plans: { pro: { languages: { zh: { primary: 'flite-hd', fallback: 'flite-fast' } } } } });
    expect(() => parseConfig(bad)).toThrow(/neither flite-hd nor flite-fast speaks zh/);
  });
});
