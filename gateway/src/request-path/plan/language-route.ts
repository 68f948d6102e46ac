/**
 * Which models of a plan may serve a text, by the languages it needs (pure):
 * - a plan's `languages:` map names a primary/fallback pair per language (`zh: { primary:
 *   chattts, fallback: espeak-zh }`); its own `primary`/`fallback` serve every other language;
 * - the first pair in which a model speaks every language of the text serves it (the text's own
 *   languages' pairs first, then the plan's own pair), with the plan's policy and load rules;
 * - languages no model of the plan speaks are named, so the caller refuses them (422) rather than
 *   send a text whose characters a model would silently drop;
 * - when every language is spoken but by different models, the text must be split by language
 *   (text/scripts.ts `splitByLanguage`) and each run planned on its own.
 * @module
 */
import type { Language, ModelConfig, PlanConfig } from '../../config/schema.ts';

export interface ModelPair {
  primary: ModelConfig;
  fallback: ModelConfig;
  /** Set when the pair comes from the plan's `languages:` map rather than its own models. */
  forLanguage: Language | undefined;
}

export type LanguageRoute = { kind: 'single'; pair: ModelPair } | { kind: 'segments' } | { kind: 'unspoken'; languages: Language[] };

export function speaksAll(model: ModelConfig, languages: ReadonlySet<Language>): boolean {
  for (const l of languages) if (!model.languages.includes(l)) return false;
  return true;
}

/**
 * Every pair of the plan: the pairs of the text's own languages (in the text's order), then the
 * plan's own pair, then the other languages' pairs (a last resort for a mixed text).
 */
export function modelPairs(plan: PlanConfig, models: ReadonlyMap<string, ModelConfig>, languages: ReadonlySet<Language>): ModelPair[] {
  const named = plan.languages ?? {};
  const pairOf = (lang: Language): ModelPair[] => {
    const p = named[lang];
    return p ? [{ primary: models.get(p.primary)!, fallback: models.get(p.fallback)!, forLanguage: lang }] : [];
  };
  const others = (Object.keys(named) as Language[]).filter((l) => !languages.has(l));
  return [
    ...[...languages].flatMap(pairOf),
    { primary: models.get(plan.primary)!, fallback: models.get(plan.fallback)!, forLanguage: undefined },
    ...others.flatMap(pairOf),
  ];
}

/**
 * @example
 * routeLanguages(plan, models, new Set(['zh'])) // { kind: 'single', pair: { primary: espeak-zh, … } }
 */
export function routeLanguages(plan: PlanConfig, models: ReadonlyMap<string, ModelConfig>, languages: ReadonlySet<Language>): LanguageRoute {
  const pairs = modelPairs(plan, models, languages);
  const single = pairs.find((p) => speaksAll(p.primary, languages) || speaksAll(p.fallback, languages));
  if (single) return { kind: 'single', pair: single };
  const spoken = new Set(pairs.flatMap((p) => [...p.primary.languages, ...p.fallback.languages]));
  const unspoken = [...languages].filter((l) => !spoken.has(l));
  return unspoken.length > 0 ? { kind: 'unspoken', languages: unspoken } : { kind: 'segments' };
}
