/**
 * Request → Plan, pure (no I/O, no undici): the model (by plan, load and language), the pack and
 * voice the node gets, the region order (home first, then by priority) and the deadline.
 * @module
 */
import type { Config, Language, ModelConfig, PlanConfig } from '../../config/schema.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { OPENAI_VOICES, type SynthesisInput } from '../admit/body.ts';
import type { Latches } from './hysteresis.ts';
import { selectModel } from './model-select.ts';
import type { PoolView } from './pool-view.ts';

export interface Plan {
  planName: string;
  plan: PlanConfig;
  model: ModelConfig;
  /** Pack name sent to the node. */
  pack: string;
  voice: string;
  language: Language;
  /** Home region first. */
  regions: string[];
  home: string;
  /** Degradation reasons so far (more may be added by dispatch, e.g. region failover). */
  degraded: string[];
}

export interface PlanInput {
  input: SynthesisInput;
  planName: string;
  language: Language;
  home: string;
  regionOrder: (home: string) => string[];
  config: Config;
  models: ReadonlyMap<string, ModelConfig>;
  view: (modelId: string) => PoolView;
  latches: Latches;
}

/**
 * The voice to ask `model` for. An OpenAI voice name maps through the model's `openai_voices`
 * (config, so that `alloy` and `onyx` are chosen voices, not whichever sits at an index), and to
 * the model's default voice when the config names none for it.
 */
export function resolveVoice(model: ModelConfig, requested: string | undefined, degraded: boolean): string {
  const def = model.default_voice ?? model.voices[0]!;
  if (requested === undefined) return def;
  if (model.voices.includes(requested)) return requested;
  const mapped = model.openai_voices[requested];
  if (mapped !== undefined) return mapped;
  if (OPENAI_VOICES.includes(requested)) return def;
  if (degraded) return def;
  throw new GatewayError('VOX_ERR_UNKNOWN_VOICE', `voice ${requested} is not one of ${model.voices.join(', ')}`, { param: 'voice' });
}

export function planRequest(p: PlanInput): Plan {
  const plan = p.config.plans[p.planName];
  if (!plan) throw new GatewayError('VOX_ERR_FORBIDDEN', `plan ${p.planName} is not configured`);
  const choice = selectModel({
    plan,
    models: p.models,
    language: p.language,
    role: p.input.role,
    view: p.view,
    latches: p.latches,
    degradation: p.config.degradation,
  });
  // A voice the plan's first-choice model knows is valid even when a degraded model lacks it.
  const first = p.models.get(p.input.role === 'fallback' ? plan.fallback : plan.primary)!;
  if (choice.degraded && p.input.voice !== undefined) resolveVoice(first, p.input.voice, false);
  const voice = resolveVoice(choice.model, p.input.voice, choice.degraded !== undefined);
  return {
    planName: p.planName,
    plan,
    model: choice.model,
    pack: choice.model.pack ?? choice.model.id,
    voice,
    language: p.language,
    regions: p.regionOrder(p.home),
    home: p.home,
    degraded: choice.degraded ? [choice.degraded] : [],
  };
}
