import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../../gateway/src/config/load.ts';
import { baseConfig, deepMerge } from '../../harness/config.ts';

const withNodes = (over: Record<string, unknown> = {}) =>
  deepMerge(baseConfig(), {
    regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:1', models: ['flite-hd'] }] }],
    ...over,
  });

describe('config schema', () => {
  it('accepts config/local.yaml: two regions of two nodes, three plans, the demo keys', () => {
    const cfg = loadConfigFile(new URL('../../../config/local.yaml', import.meta.url).pathname);
    expect(cfg.regions.map((r) => [r.name, r.nodes.length])).toEqual([
      ['cn-north-1', 2],
      ['cn-south-1', 2],
    ]);
    expect(Object.keys(cfg.plans).sort()).toEqual(['enterprise', 'free', 'pro']);
    expect(cfg.keys.map((k) => k.key).sort()).toEqual(['demo-enterprise', 'demo-free', 'demo-pro']);
    expect(cfg.local).toBe(true);
    expect(Object.isFrozen(cfg.regions[0])).toBe(true);
  });

  it('fills defaults (concurrency 30, retry budget 20%/3, overprovisioning 1.4, panic 50%)', () => {
    const cfg = parseConfig(deepMerge(withNodes(), { admission: {} }));
    expect(cfg.admission.max_concurrency).toBe(64); // the harness base sets 64
    const bare = parseConfig({ ...withNodes(), admission: undefined, retry: undefined, routing: undefined, saturation: undefined });
    expect(bare.admission.max_concurrency).toBe(30);
    expect([bare.retry.budget_percent, bare.retry.min_retry_concurrency]).toEqual([20, 3]);
    expect([bare.routing.overprovisioning_factor, bare.routing.panic_threshold_percent]).toEqual([1.4, 50]);
    expect([bare.saturation.queue_depth, bare.saturation.cooldown_ms]).toEqual([20, 10_000]);
  });

  it('refuses plain keys outside a local config, and accepts sha256 hashes', () => {
    expect(() => parseConfig(withNodes({ local: false }))).toThrow(/plain-text keys/);
    const hashed = parseConfig(withNodes({ local: false, keys: [{ sha256: 'a'.repeat(64), tenant: 't', plan: 'pro' }] }));
    expect(hashed.keys[0]!.sha256).toBe('a'.repeat(64));
  });

  it('refuses unknown keys, dangling references and broken invariants, naming the path', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ surprise: 1 }, /surprise|Unrecognized/i],
      [{ region: 'mars' }, /home region mars/],
      [{ regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://x:1', models: ['nope'] }] }] }, /unknown model nope/],
      [{ retry: { backoff_base_ms: 500, backoff_max_ms: 100 } }, /backoff_base_ms/],
      [{ degradation: { busy_enter_wait_ms: 100, busy_exit_wait_ms: 200 } }, /busy_exit_wait_ms/],
    ];
    for (const [over, re] of cases) {
      let err: unknown;
      try {
        parseConfig(withNodes(over));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(re);
    }
  });

  it('documents every top-level section in docs/request-path.md', () => {
    const doc = readFileSync(new URL('../../../docs/request-path.md', import.meta.url), 'utf8');
    for (const key of [
      'regions',
      'models',
      'plans',
      'keys',
      'canaries',
      'admission',
      'timeouts',
      'retry',
      'health',
      'outlier_detection',
      'breaker',
      'saturation',
      'routing',
      'degradation',
    ])
      expect(doc).toContain(`\`${key}\``);
  });
});
