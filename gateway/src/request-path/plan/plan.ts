/**
 * Request → Plan, pure (no I/O, no undici): the model (by plan, languages and load), the pack and
 * voice the node gets, the region order (home first, then by priority) and the deadline.
 * @module
 */
import type { Config, Language, ModelConfig, PlanConfig } from '../../config/schema.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { charactersOf, LANGUAGE_NAMES } from '../../text/scripts.ts';
import { OPENAI_VOICES, type SynthesisInput } from '../admit/body.ts';
import type { Latches } from './hysteresis.ts';
import { routeLanguages, speaksAll } from './language-route.ts';
import { selectModel } from './model-select.ts';
import type { PoolView } from './pool-view.ts';

export interface Plan {
  planName: string;
  /**
   * The plan as it applies to this text: `primary`/`fallback` are the pair that serves its
   * languages, and a model of the pair that cannot speak them all is replaced by the one that
   * can, so a later switch between the two (dispatch) never changes the language.
   */
  plan: PlanConfig;
  model: ModelConfig;
  /** Pack name sent to the node. */
  pack: string;
  voice: string;
  /** The text's first language (`en` for digits and punctuation only). */
  language: Language;
  /** Every language the text needs, in order of appearance. */
  languages: Language[];
  /** Home region first. */
  regions: string[];
  home: string;
  /** Degradation reasons so far (more may be added by dispatch, e.g. region failover). */
  degraded: string[];
}

export interface PlanInput {
  input: SynthesisInput;
  planName: string;
  /** The languages the text needs (text/scripts.ts `detectLanguages`), or the one it needs. */
  language: ReadonlySet<Language> | Language;
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
  // Own keys only: a voice named `constructor` must not find Object.prototype's.
  if (Object.hasOwn(model.openai_voices, requested)) return model.openai_voices[requested]!;
  if (OPENAI_VOICES.includes(requested)) return def;
  if (degraded) return def;
  throw new GatewayError('VOX_ERR_UNKNOWN_VOICE', `voice ${requested} is not one of ${model.voices.join(', ')}`, { param: 'voice' });
}

export function planRequest(p: PlanInput): Plan {
  const plan = p.config.plans[p.planName];
  if (!plan) throw new GatewayError('VOX_ERR_FORBIDDEN', `plan ${p.planName} is not configured`);
  const languages: ReadonlySet<Language> = typeof p.language === 'string' ? new Set([p.language]) : p.language;
  const route = routeLanguages(plan, p.models, languages);
  if (route.kind === 'unspoken') {
    const named = route.languages.map((l) => `${LANGUAGE_NAMES[l]} (${l}: "${charactersOf(p.input.text, l)}")`).join(', ');
    throw new GatewayError('VOX_ERR_UNSUPPORTED_LANGUAGE', `no model of plan ${p.planName} speaks ${named}`, { param: 'input' });
  }
  if (route.kind === 'segments')
    throw new GatewayError(
      'VOX_ERR_UNSUPPORTED_LANGUAGE',
      `no single model of plan ${p.planName} speaks ${[...languages].join(' and ')} together; split the text by language`,
      { param: 'input' },
    );

  const { pair } = route;
  const speaking = (m: ModelConfig) => (speaksAll(m, languages) ? m : speaksAll(pair.primary, languages) ? pair.primary : pair.fallback);
  const effective: PlanConfig = { ...plan, primary: speaking(pair.primary).id, fallback: speaking(pair.fallback).id };
  const choice = selectModel({
    plan: { ...plan, primary: pair.primary.id, fallback: pair.fallback.id },
    models: p.models,
    languages,
    role: p.input.role,
    view: p.view,
    latches: p.latches,
    degradation: p.config.degradation,
  });
  // A voice the plan's first-choice model knows is valid even when a degraded model, or the model
  // of another language, lacks it (the playground's voice list is the plan's primary's).
  const own = p.models.get(p.input.role === 'fallback' ? plan.fallback : plan.primary)!;
  const first = p.input.role === 'fallback' ? pair.fallback : pair.primary;
  const elsewhere = choice.degraded !== undefined || pair.forLanguage !== undefined;
  if (elsewhere && p.input.voice !== undefined && !choice.model.voices.includes(p.input.voice) && !first.voices.includes(p.input.voice))
    resolveVoice(own, p.input.voice, false);
  const voice = resolveVoice(choice.model, p.input.voice, elsewhere);
  return {
    planName: p.planName,
    plan: effective,
    model: choice.model,
    pack: choice.model.pack ?? choice.model.id,
    voice,
    language: languages.values().next().value ?? 'en',
    languages: [...languages],
    regions: p.regionOrder(p.home),
    home: p.home,
    degraded: choice.degraded ? [choice.degraded] : [],
  };
}
