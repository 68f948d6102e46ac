/**
 * Batch work (a job, a pre-synthesis item) planned as an interactive request of the same plan
 * would be, from this region: the text split by language into parts, each part's model and
 * regions chosen, and the parts cut into the same segments a streamed answer would use. One
 * place, so a job's segments and a pre-synthesised cache entry match what an interactive
 * request would have got.
 * @module
 */
import type { Config, ModelConfig } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import { detectLanguage } from '../request-path/admit/language.ts';
import type { Latches } from '../request-path/plan/hysteresis.ts';
import { planParts, type PlanPart } from '../request-path/plan/mixed-plan.ts';
import type { SynthesisInput } from '../request-path/admit/body.ts';
import { poolView } from '../request-path/plan/pool-view.ts';
import { segmentSpecs } from '../request-path/stream/segment-specs.ts';
import type { SegmentSpec } from '../stream/segment-run.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';

export interface BatchPlanDeps {
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  endpoints: EndpointSet;
  latches: Latches;
  clock: Clock;
}

export interface BatchPlan {
  parts: PlanPart[];
  specs: SegmentSpec[];
}

/**
 * @param maxSegmentChars a tighter segment bound than `stream.max_segment_chars` (jobs use shorter
 *   segments so an interactive request waits behind less batch work).
 * @example
 * const { parts, specs } = planBatch(deps, input, 'pro');
 */
export function planBatch(deps: BatchPlanDeps, input: SynthesisInput, planName: string, maxSegmentChars?: number): BatchPlan {
  const config = deps.config();
  const models = deps.models();
  const now = deps.clock.now();
  const parts = planParts({
    text: input.text,
    input,
    planName,
    language: detectLanguage(input.text),
    home: config.region,
    regionOrder: (h) => deps.endpoints.regionsFrom(h),
    config,
    models,
    view: (model) => poolView(deps.endpoints, model, now, models.get(model)?.pack ?? model),
    latches: deps.latches,
  });
  const stream =
    maxSegmentChars === undefined ? config.stream : { ...config.stream, max_segment_chars: Math.min(config.stream.max_segment_chars, maxSegmentChars) };
  const specs = parts.flatMap((part) => segmentSpecs({ text: part.text, plan: part.plan, voice: input.voice, models, stream }));
  return { parts, specs };
}
