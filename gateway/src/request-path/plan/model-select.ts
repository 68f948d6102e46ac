/**
 * Model choice by plan and load (pure but for the hysteresis latches it is handed):
 * - `primary_always` (enterprise): the primary; the fallback only when no primary node can take
 *   work in any region.
 * - `primary_unless_busy` (pro): the primary unless its pool's estimated queue wait is over
 *   `busy_enter_wait_ms`; back to the primary once it falls under `busy_exit_wait_ms`.
 * - `fallback_unless_idle` (free): the fallback, or the primary while the primary pool is idle
 *   (utilisation ≤ `idle_enter_utilization`, until it exceeds `idle_exit_utilization`).
 * A model that cannot speak every language of the text is never chosen, for degradation or otherwise.
 * @module
 */
import type { Config, Language, ModelConfig, PlanConfig } from '../../config/schema.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Latches } from './hysteresis.ts';
import { speaksAll } from './language-route.ts';
import type { PoolView } from './pool-view.ts';

export interface ModelChoice {
  model: ModelConfig;
  /** Set when a cheaper model than the plan's first choice serves. */
  degraded: string | undefined;
}

export interface ModelSelectInput {
  plan: PlanConfig;
  models: ReadonlyMap<string, ModelConfig>;
  /** The languages the text needs (text/scripts.ts); empty for digits and punctuation only. */
  languages: ReadonlySet<Language>;
  /** OpenAI `tts-1` asks for the fallback outright. */
  role: 'primary' | 'fallback' | undefined;
  view: (modelId: string) => PoolView;
  latches: Latches;
  degradation: Config['degradation'];
}

export function selectModel(input: ModelSelectInput): ModelChoice {
  const { plan, models, languages, view, latches, degradation: d } = input;
  const primary = models.get(plan.primary)!;
  const fallback = models.get(plan.fallback)!;
  const speaks = (m: ModelConfig) => speaksAll(m, languages);
  if (!speaks(primary) && !speaks(fallback))
    throw new GatewayError('VOX_ERR_UNSUPPORTED_LANGUAGE', `no model of this plan speaks ${[...languages].join(' and ')}`);

  const p = view(primary.id);
  const f = view(fallback.id);
  // The latches see every request's observation, whatever the final choice, so they track load.
  const busy = latches.get(`busy:${primary.id}`).update(p.waitMs > d.busy_enter_wait_ms, p.waitMs < d.busy_exit_wait_ms);
  const idle = latches
    .get(`idle:${primary.id}`)
    .update(p.available > 0 && p.utilization <= d.idle_enter_utilization, p.available === 0 || p.utilization > d.idle_exit_utilization);

  let choice: ModelChoice;
  if (input.role === 'fallback') choice = { model: fallback, degraded: undefined };
  else if (plan.policy === 'primary_always')
    choice = p.available > 0 ? { model: primary, degraded: undefined } : { model: fallback, degraded: 'primary_unavailable' };
  else if (plan.policy === 'primary_unless_busy')
    choice =
      p.available === 0
        ? { model: fallback, degraded: 'primary_unavailable' }
        : busy
          ? { model: fallback, degraded: 'primary_busy' }
          : { model: primary, degraded: undefined };
  else choice = idle ? { model: primary, degraded: undefined } : { model: fallback, degraded: undefined };

  // The plan's cheaper model is down but the primary can serve: serve (an upgrade, not a degrade).
  if (choice.model === fallback && f.available === 0 && p.available > 0 && speaks(primary)) choice = { model: primary, degraded: undefined };
  // Language trumps load: never hand a text to a model that cannot speak it.
  if (!speaks(choice.model)) choice = choice.model === primary ? { model: fallback, degraded: 'language' } : { model: primary, degraded: undefined };
  return choice;
}
