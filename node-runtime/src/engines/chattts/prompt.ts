/**
 * Code-stage prompt template (spec §4.3): `[Stts][spk_emb]{prompt}{text}[Ptts]` with a speaker,
 * `[Stts][empty_spk]{prompt}{text}[Ptts]` without. User-supplied structural tokens are removed
 * first so a request cannot open a second prompt or inject a speaker slot.
 * @module
 */

// Case-insensitive: the tokenizer lower-cases text, so "[SPK_EMB]" must not survive either.
// The code stage removes what upstream removes (the refine stage's output passes through it, and
// may hold other special tokens that upstream keeps); the refine stage's input is user text, from
// which every structural token goes.
const CODE_STRUCTURAL = /\[(Stts|spk_emb|empty_spk)\]/gi;
const STRUCTURAL = /\[(Stts|spk_emb|empty_spk|Ptts|Sbreak|Pbreak|Ebreak)\]/gi;

/** speed 1 → `[speed_5]` (the default); 0.5 → `[speed_2]`… 2 → `[speed_9]`, clamped to 0..9. */
export function speedToken(speed: number | undefined, fallback: string): string {
  if (speed === undefined || !Number.isFinite(speed)) return fallback;
  const n = Math.min(9, Math.max(0, Math.round(5 + (speed - 1) * 5)));
  return `[speed_${n}]`;
}

/** Removes every prompt-structure token from user text, whatever its case. */
export function stripStructural(text: string): string {
  return text.replace(STRUCTURAL, '');
}

/** Refine-stage template (spec §4.3): `[Sbreak]{text}[Pbreak]{prompt}`. */
export function refinePrompt(text: string, prompt: string): string {
  return `[Sbreak]${stripStructural(text).trim()}[Pbreak]${prompt}`;
}

/**
 * `textSample`: the text of an audio prompt (upstream's `txt_smp`, the first sentence when later
 * sentences are conditioned on its audio); it goes before the prompt, as upstream places it, and
 * the audio codes follow `[Ptts]` (pipeline.ts). Like upstream, it is not stripped: it is the
 * refine stage's output for the first sentence, never user text (that lost every structural tag
 * before refining).
 */
export function codePrompt(text: string, opts: { prompt: string; speed?: number | undefined; withSpeaker: boolean; textSample?: string | undefined }): string {
  const t = text.replace(CODE_STRUCTURAL, '').trim();
  const prompt = opts.speed === undefined ? opts.prompt : opts.prompt.replace(/\[speed_\d\]/g, '') + speedToken(opts.speed, '[speed_5]');
  return `[Stts]${opts.withSpeaker ? '[spk_emb]' : '[empty_spk]'}${opts.textSample ?? ''}${prompt}${t}[Ptts]`;
}
