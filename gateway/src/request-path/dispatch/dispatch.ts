/**
 * Runs a Plan through the composed layer stack (layers/compose.ts) to a node. When the planned
 * model has no capacity anywhere (every node refused, unavailable or saturated) and the plan's other
 * model can speak the text, it tries that one once, within the same deadline (enterprise's
 * "fallback only when no primary capacity is reachable"). Marks answers served outside the home
 * region as degraded (`region_failover`).
 * @module
 */
import type { ModelConfig } from '../../config/schema.ts';
import { toGatewayError } from '../../errors/to-response.ts';
import { retryDecision } from '../../layers/retry/retry-policy.ts';
import type { AttemptRecord, Service, UpstreamResponse } from '../../upstream/service.ts';
import type { AttemptSignal } from '../../core/try-signal.ts';
import type { SynthesisInput } from '../admit/body.ts';
import { resolveVoice, type Plan } from '../plan/plan.ts';

export interface DispatchInput {
  traceId: string;
  input: SynthesisInput;
  text: string;
  plan: Plan;
  deadlineAt: number;
  deadline: AttemptSignal;
  models: ReadonlyMap<string, ModelConfig>;
  /** Filled with every attempt as it is made; the caller's array, so a failure can report them too. */
  attempts?: AttemptRecord[];
}

export interface Served {
  response: UpstreamResponse;
  model: ModelConfig;
  attempts: AttemptRecord[];
  degraded: string[];
}

function nodeBody(d: DispatchInput, pack: string, voice: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      text: d.text,
      model: pack,
      voice,
      format: d.input.format,
      ...(d.input.speed !== undefined ? { speed: d.input.speed } : {}),
      ...(d.input.seed !== undefined ? { seed: d.input.seed } : {}),
      ...(d.input.refineText !== undefined ? { refine_text: d.input.refineText } : {}),
      ...(d.input.firstSentencePrompt !== undefined ? { first_sentence_prompt: d.input.firstSentencePrompt } : {}),
    }),
  );
}

function run(service: Service, d: DispatchInput, attempts: AttemptRecord[], model: ModelConfig, voice: string): Promise<UpstreamResponse> {
  return service({
    traceId: d.traceId,
    body: nodeBody(d, model.pack ?? model.id, voice),
    route: { model: model.id, pack: model.pack ?? model.id, regions: d.plan.regions },
    textLength: d.text.length,
    deadlineAt: d.deadlineAt,
    deadline: d.deadline,
    signal: d.deadline,
    attempt: 0,
    tried: new Set(),
    attempts,
  });
}

/**
 * @example
 * const served = await dispatch(service, { traceId, input, text, plan, deadlineAt, deadline, models });
 */
export async function dispatch(service: Service, d: DispatchInput): Promise<Served> {
  const attempts: AttemptRecord[] = d.attempts ?? [];
  const degraded = [...d.plan.degraded];
  let model = d.plan.model;
  let response: UpstreamResponse;
  try {
    response = await run(service, d, attempts, model, d.plan.voice);
  } catch (err) {
    const ge = toGatewayError(err);
    const other = d.models.get(model.id === d.plan.plan.primary ? d.plan.plan.fallback : d.plan.plan.primary);
    // Only "no capacity for this model" (the catalogue's `other_model`: nothing reachable, or every
    // node saturated). Nodes that answered and failed are not that: a second pool would double the load.
    if (retryDecision(ge) !== 'other_model' || !other || other.id === model.id || !other.languages.includes(d.plan.language) || d.deadline.aborted) throw err;
    const toFallback = other.id === d.plan.plan.fallback;
    model = other;
    response = await run(service, d, attempts, other, resolveVoice(other, d.input.voice, true));
    if (toFallback) degraded.push('primary_unavailable');
  }
  if (response.region !== d.plan.home) degraded.push('region_failover');
  return { response, model, attempts, degraded: degraded.length > 1 ? [...new Set(degraded)] : degraded };
}
