/**
 * The gateway configuration under test: everything on (API-key auth, per-tenant rate limit,
 * concurrency limit with plan shares, planning with degradation, region priority, p2c balancing,
 * per-node breakers, outlier detection, retries with a budget, health checks with load reports,
 * Prometheus metrics, one access-log line per request), optionally with a 5 % shadow to a canary.
 * Limits are set so they never bind during a benchmark (a rate limit that refuses requests would
 * measure 429s, not proxying), but every check still runs on every request.
 * @module
 */
import { baseConfig } from '../../test/harness/config.ts';

export interface Topology {
  /** Region name → node URLs serving the primary and fallback models. */
  regions: { name: string; urls: string[] }[];
  /** The canary sink's URL (a node serving only the canary model). */
  canaryUrl?: string;
}

export interface BenchConfigOptions {
  shadowRate?: number;
  storeDir: string;
  connectionsPerNode?: number;
}

export const BENCH_KEY = 'bench-pro';

export function benchConfig(topo: Topology, o: BenchConfigOptions): Record<string, unknown> {
  const base = baseConfig();
  const regions = topo.regions.map((r, ri) => ({
    name: r.name,
    priority: ri,
    nodes: [
      ...r.urls.map((url, i) => ({ id: `${r.name}-${i + 1}`, url, models: ['tts-hd', 'tts-fast'] })),
      ...(ri === 0 && topo.canaryUrl ? [{ id: `${r.name}-canary`, url: topo.canaryUrl, models: ['tts-canary'] }] : []),
    ],
  }));
  const plans = base['plans'] as Record<string, Record<string, unknown>>;
  for (const p of Object.values(plans)) {
    p['primary'] = 'tts-hd';
    p['fallback'] = 'tts-fast';
    p['rate_limit'] = { rps: 1_000_000, burst: 1_000_000 };
  }
  return {
    local: true,
    region: topo.regions[0]!.name,
    regions,
    models: [
      { id: 'tts-hd', role: 'primary', engine: 'sim', pack: 'hd', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
      { id: 'tts-fast', role: 'fallback', engine: 'sim', pack: 'fast', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
      { id: 'tts-canary', role: 'canary', engine: 'sim', pack: 'canary', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
    ],
    plans,
    keys: [...(base['keys'] as object[]), { key: BENCH_KEY, tenant: 'bench', plan: 'pro' }],
    canaries:
      o.shadowRate && topo.canaryUrl ? [{ canary: 'tts-canary', baseline: 'tts-hd', sample_rate: o.shadowRate, max_concurrent: 8, timeout_ms: 5_000 }] : [],
    canary_judge: { store: `${o.storeDir}/canary.sqlite`, threads: 1, queue: 32, asr: 'off' },
    admission: { max_concurrency: 2048, body_limit_bytes: 65_536, max_timeout_ms: 60_000 },
    timeouts: { attempt_ms: 3_000, connect_ms: 300, capacity_wait_ms: 500 },
    retry: { max_attempts: 4, budget_percent: 20, min_retry_concurrency: 10, backoff_base_ms: 5, backoff_max_ms: 50, max_retry_after_ms: 500 },
    health: { interval_ms: 500, timeout_ms: 400, healthy_threshold: 2, unhealthy_threshold: 2 },
    outlier_detection: { consecutive_failures: 5, consecutive_connect_failures: 1, base_ejection_ms: 5_000, max_ejection_ms: 30_000, max_ejection_percent: 50 },
    breaker: { error_threshold_percentage: 50, volume_threshold: 10, reset_timeout_ms: 5_000, rolling_window_ms: 10_000 },
    saturation: { queue_depth: 1024, cooldown_ms: 1_000 },
    routing: { overprovisioning_factor: 1.4, panic_threshold_percent: 50 },
    upstream: { connections_per_node: o.connectionsPerNode ?? 256, buffer_max_bytes: 128 * 1024 },
  };
}
