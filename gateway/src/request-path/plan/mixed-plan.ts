/**
 * A text whose languages no single model of the plan speaks together ("Please call 张伟 at the
 * Beijing office"): split by script (text/scripts.ts `splitByLanguage`) and each run planned on
 * its own — a model that speaks it, with the plan's policy and load rules — so the streamed answer
 * speaks the runs in order, each by a model that can (stream/segment-run.ts), in one response.
 * A text one model speaks whole is one part, planned as before. Pure but for the latches.
 * @module
 */
import type { Language } from '../../config/schema.ts';
import { splitByLanguage } from '../../text/scripts.ts';
import { routeLanguages } from './language-route.ts';
import { planRequest, type Plan, type PlanInput } from './plan.ts';

export interface PlanPart {
  text: string;
  plan: Plan;
}

/**
 * @example
 * planParts({ ...input, language: detectLanguages(text) }) // [{ text: 'Please call ', plan: en }, { text: '张伟 ', plan: zh }, …]
 */
export function planParts(p: PlanInput & { text: string }): PlanPart[] {
  const plan = p.config.plans[p.planName];
  const languages: ReadonlySet<Language> = typeof p.language === 'string' ? new Set([p.language]) : p.language;
  // Anything but "spoken, by different models" is planned (or refused) whole, as before.
  if (!plan || routeLanguages(plan, p.models, languages).kind !== 'segments') return [{ text: p.text, plan: planRequest(p) }];
  const parts: PlanPart[] = [];
  for (const run of splitByLanguage(p.text)) {
    const lang = (run.lang === 'neutral' ? [...languages][0] : run.lang) as Language;
    const planned = planRequest({ ...p, input: { ...p.input, text: run.text }, language: new Set([lang]) });
    const last = parts[parts.length - 1];
    // Two runs the same model speaks (a language between them that it speaks too) stay one part.
    if (last && last.plan.model.id === planned.model.id && last.plan.voice === planned.voice) last.text += run.text;
    else parts.push({ text: run.text, plan: planned });
  }
  return parts;
}
