/**
 * The harness's base gateway config: the flite packs as primary (`flite-hd`, pack `flite`) and
 * fallback (`flite-fast`), the three plans and demo keys, and health/timeouts tuned for fast
 * tests (200 ms health interval, 3 s per-try timeout). Tests deep-merge their overrides.
 * @module
 */
export type ConfigOverrides = Record<string, unknown>;

export function baseConfig(): Record<string, unknown> {
  return {
    local: true,
    region: 'north',
    regions: [],
    models: [
      { id: 'flite-hd', role: 'primary', engine: 'flite', pack: 'flite', languages: ['en'], voices: ['slt', 'rms', 'awb'], default_voice: 'slt' },
      { id: 'flite-fast', role: 'fallback', engine: 'flite', pack: 'flite-fast', languages: ['en'], voices: ['kal'], default_voice: 'kal' },
    ],
    plans: {
      free: {
        policy: 'fallback_unless_idle',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 300,
        long_text: 'reject',
        rate_limit: { rps: 1000, burst: 1000 },
        load_share: 0.6,
        timeout_ms: 8000,
      },
      pro: {
        policy: 'primary_unless_busy',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 1000,
        long_text: 'truncate',
        rate_limit: { rps: 1000, burst: 1000 },
        load_share: 0.85,
        timeout_ms: 10000,
      },
      enterprise: {
        policy: 'primary_always',
        primary: 'flite-hd',
        fallback: 'flite-fast',
        max_text_chars: 3000,
        long_text: 'truncate',
        rate_limit: { rps: 1000, burst: 1000 },
        load_share: 1,
        timeout_ms: 15000,
      },
    },
    keys: [
      { key: 'demo-free', tenant: 'demo-free', plan: 'free' },
      { key: 'demo-pro', tenant: 'demo-pro', plan: 'pro' },
      { key: 'demo-enterprise', tenant: 'demo-enterprise', plan: 'enterprise' },
    ],
    admission: { max_concurrency: 64 },
    timeouts: { attempt_ms: 3000, connect_ms: 300, capacity_wait_ms: 500 },
    health: { interval_ms: 200, timeout_ms: 300, healthy_threshold: 2, unhealthy_threshold: 2 },
    outlier_detection: { consecutive_failures: 3, base_ejection_ms: 3000 },
    breaker: { volume_threshold: 4, reset_timeout_ms: 3000, rolling_window_ms: 6000 },
    saturation: { cooldown_ms: 1000 },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars replace. */
export function deepMerge<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out as T;
}

/** Where the runtime's simulator packs live (timed delay instead of CPU work). */
export const SIM_MODELS_DIR = 'test/fixtures/models/sim';

/**
 * Gateway overrides for clusters of simulator nodes (`node: { modelsDir: SIM_MODELS_DIR }`): both
 * roles on the fast sim pack (≈ 20 ms of audio per character × rtf 0.25 ≈ 5 ms per character),
 * so scenarios that test the gateway's mechanisms do not depend on how much CPU the machine has
 * left for synthesis.
 */
export function simOverrides(): ConfigOverrides {
  const plans = baseConfig()['plans'] as Record<string, Record<string, unknown>>;
  return {
    models: [
      { id: 'sim-hd', role: 'primary', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'] },
      { id: 'sim-fast', role: 'fallback', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'] },
    ],
    plans: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, { ...p, primary: 'sim-hd', fallback: 'sim-fast' }])),
  };
}
