/**
 * An espeak pack's `voices.json`: the pack's voice names → espeak-ng voice ids. A voice may name
 * a second espeak-ng voice for Latin-script words (a Chinese voice reads English as pinyin).
 * @module
 */
import { z } from 'zod';

/** espeak-ng voice ids with an optional variant: `cmn-latn-pinyin`, `en-us+f3`, `yue`. */
const EspeakVoiceId = z.string().regex(/^[a-z][a-z0-9-]*(\+[a-z0-9]+)?$/i, 'an espeak-ng voice id such as en-us or cmn-latn-pinyin+f3');

export const EspeakVoicesSchema = z
  .object({
    default: z.string().min(1),
    voices: z.record(
      z.string().min(1),
      z
        .union([EspeakVoiceId, z.object({ voice: EspeakVoiceId, latin: EspeakVoiceId.optional() }).strict()])
        .transform((v) => (typeof v === 'string' ? { voice: v } : v)),
    ),
    /** espeak-ng words per minute at speed 1 (its default is 175). */
    words_per_minute: z.number().int().min(80).max(450).default(175),
  })
  .strict()
  .refine((v) => v.default in v.voices, 'default must name one of the voices');

export type EspeakVoices = z.infer<typeof EspeakVoicesSchema>;
export type EspeakVoice = EspeakVoices['voices'][string];
