/**
 * Plan → the segments of one streamed answer and who speaks each: the text split at sentence
 * boundaries into pieces one node request takes (the model's `max_segment_chars`, else
 * `stream.max_segment_chars`), balanced over the plan's `parallel_segments`, each for the planned
 * model and voice, with the plan's other model as its fallback when that one speaks the text's
 * language too. Pure.
 * @module
 */
import type { Config, Language, ModelConfig } from '../../config/schema.ts';
import type { SegmentSpec } from '../../stream/segment-run.ts';
import { segmentText } from '../../stream/segmenter.ts';
import type { Plan } from '../plan/plan.ts';
import { resolveVoice } from '../plan/plan.ts';

export interface SpecInput {
  text: string;
  plan: Plan;
  /** The voice the client asked for (mapped per model). */
  voice: string | undefined;
  models: ReadonlyMap<string, ModelConfig>;
  stream: Config['stream'];
}

export function maxSegmentChars(model: ModelConfig, stream: Config['stream']): number {
  return Math.min(model.max_segment_chars ?? stream.max_segment_chars, stream.max_segment_chars);
}

/** The plan's other model, when it can stand in for `model` on text of `language`. */
export function fallbackFor(
  model: ModelConfig,
  plan: Plan,
  models: ReadonlyMap<string, ModelConfig>,
  language: Language,
  voice: string | undefined,
): SegmentSpec['fallback'] {
  const otherId = model.id === plan.plan.primary ? plan.plan.fallback : plan.plan.primary;
  const other = models.get(otherId);
  if (!other || other.id === model.id || !other.languages.includes(language)) return undefined;
  return { model: other, voice: resolveVoice(other, voice, true) };
}

/**
 * @example
 * const specs = segmentSpecs({ text, plan, voice: input.voice, models, stream: config.stream });
 */
export function segmentSpecs(s: SpecInput): SegmentSpec[] {
  const model = s.plan.model;
  const fallback = fallbackFor(model, s.plan, s.models, s.plan.language, s.voice);
  return segmentText(s.text, { maxChars: maxSegmentChars(model, s.stream), parallel: s.plan.plan.parallel_segments }).map((text) => ({
    text,
    model,
    voice: s.plan.voice,
    ...(fallback ? { fallback } : {}),
  }));
}
