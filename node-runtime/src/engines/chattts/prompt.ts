/**
 * Code-stage prompt template (spec §4.3): `[Stts][spk_emb]{prompt}{text}[Ptts]` with a speaker,
 * `[Stts][empty_spk]{prompt}{text}[Ptts]` without. User-supplied structural tokens are removed
 * first so a request cannot open a second prompt or inject a speaker slot.
 * @module
 */

// Case-insensitive: the tokenizer lower-cases text, so "[SPK_EMB]" must not survive either.
const STRUCTURAL = /\[(Stts|spk_emb|empty_spk|Ptts|Sbreak|Pbreak|Ebreak)\]/gi;

/** speed 1 → `[speed_5]` (the default); 0.5 → `[speed_2]`… 2 → `[speed_9]`, clamped to 0..9. */
export function speedToken(speed: number | undefined, fallback: string): string {
  if (speed === undefined || !Number.isFinite(speed)) return fallback;
  const n = Math.min(9, Math.max(0, Math.round(5 + (speed - 1) * 5)));
  return `[speed_${n}]`;
}

/** Refine-stage template (spec §4.3): `[Sbreak]{text}[Pbreak]{prompt}`. */
export function refinePrompt(text: string, prompt: string): string {
  return `[Sbreak]${text.replace(STRUCTURAL, '').trim()}[Pbreak]${prompt}`;
}

export function codePrompt(text: string, opts: { prompt: string; speed?: number | undefined; withSpeaker: boolean }): string {
  const t = text.replace(STRUCTURAL, '').trim();
  const prompt = opts.speed === undefined ? opts.prompt : opts.prompt.replace(/\[speed_\d\]/g, '') + speedToken(opts.speed, '[speed_5]');
  return `[Stts]${opts.withSpeaker ? '[spk_emb]' : '[empty_spk]'}${prompt}${t}[Ptts]`;
}
