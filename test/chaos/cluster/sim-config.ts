/**
 * The gateway config overrides that point the harness's base config at the simulator packs
 * (`test/fixtures/models/sim`): `sim-hd` (pack `sim-primary`) as primary, `sim-fast` (pack
 * `sim-fallback`) as fallback, for every plan.
 * @module
 */
import path from 'node:path';
import { REPO_ROOT } from '../../harness/index.ts';

export const SIM_MODELS_DIR = path.join(REPO_ROOT, 'test/fixtures/models/sim');
export const SIM_LEAKY_MODELS_DIR = path.join(REPO_ROOT, 'test/fixtures/models/sim-leaky');
export const SIM_V2_PACK_DIR = path.join(REPO_ROOT, 'test/fixtures/models/sim-v2/sim-primary');
export const SIM_INVALID_PACK_DIR = path.join(REPO_ROOT, 'test/fixtures/models/sim-invalid/sim-primary');
export const SIM_MODEL_IDS = ['sim-hd', 'sim-fast'];

/**
 * Service time of the primary for a text of `chars` characters, from the pack's parameters
 * (base_ms 30 + rtf 2.5 × 20 ms/char): what capacity is computed from.
 */
export function primaryServiceMs(chars: number): number {
  return 30 + 2.5 * 20 * chars;
}

export function simGatewayOverrides(): Record<string, unknown> {
  const plan = { primary: 'sim-hd', fallback: 'sim-fast' };
  return {
    models: [
      { id: 'sim-hd', role: 'primary', engine: 'sim', pack: 'sim-primary', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
      { id: 'sim-fast', role: 'fallback', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
    ],
    plans: { free: plan, pro: plan, enterprise: plan },
    // The sim primary takes ~1.3 s (slower than real time on purpose, see the fixtures README):
    // per-try timeouts and the slow-call threshold are scaled to it, as an operator would —
    // 3.5 s covers a full node queue's wait and leaves room for two more tries in a 10 s budget.
    timeouts: { attempt_ms: 3_500 },
    breaker: { slow_call_base_ms: 4_000 },
  };
}
