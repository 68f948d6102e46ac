/**
 * The ChatTTS tokenizer: the pack's BERT WordPiece `tokenizer.json` through @huggingface/tokenizers,
 * always without special tokens (spec §3.1). The released file carries `truncation` (256) and
 * `padding` (Fixed 256) blocks that transformers overrides per call; we strip both before loading
 * so a long sentence is never cut and a short one never padded. Special-token ids are looked up
 * by name, never hard-coded: the tiny test pack numbers them differently from the release.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

export const SPECIAL = {
  stts: '[Stts]',
  ptts: '[Ptts]',
  spkEmb: '[spk_emb]',
  emptySpk: '[empty_spk]',
  sbreak: '[Sbreak]',
  pbreak: '[Pbreak]',
  ebreak: '[Ebreak]',
  break0: '[break_0]',
} as const;

export interface ChatttsTokenizer {
  encode(text: string): number[];
  /** Ids → text with special tokens kept, WordPiece joined (the refine stage's output). */
  decode(ids: number[]): string;
  /** Id of a special token by name; throws when the pack's tokenizer lacks it. */
  id(token: string): number;
  vocabSize: number;
}

/**
 * @example
 * const tok = await loadTokenizer(pack.file('tokenizer.json'));
 * tok.encode('[Stts][spk_emb][speed_5]你好[Ptts]');
 */
export async function loadTokenizer(path: string): Promise<ChatttsTokenizer> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  json.truncation = null;
  json.padding = null;
  const tok = new Tokenizer(json, {});
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const ids = new Map<string, number>();
  const lookup = (token: string): number => {
    const id = tok.token_to_id(token);
    if (id === undefined) throw new Error(`tokenizer has no ${token} token`);
    return id;
  };
  for (const t of Object.values(SPECIAL)) ids.set(t, lookup(t));
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tok.decode(ids, { skip_special_tokens: false }),
    id: (token) => ids.get(token) ?? lookup(token),
    vocabSize,
  };
}
