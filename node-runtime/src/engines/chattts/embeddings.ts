/**
 * Input embeddings in TypeScript (spec §5.1): text positions take a row of emb_text; audio
 * positions the sum of the 4 codebook rows of emb_code. A gather is cheaper here than a session
 * call per step. `embeddings.bin` is emb_text (V×H) then emb_code[0..3] (626×H each), fp32 LE.
 * @module
 */
import { readFile } from 'node:fs/promises';

export interface Embeddings {
  hidden: number;
  /** (ids.length × H), with `speaker` written at every position holding `speakerId`. */
  text(ids: number[], speaker?: { id: number; vector: Float32Array }): Float32Array;
  /** Σ_i emb_code[i][row[i]] (H). */
  codes(row: number[]): Float32Array;
}

export async function loadEmbeddings(path: string, dims: { textVocab: number; hidden: number; numVq: number; audioVocab: number }): Promise<Embeddings> {
  const buf = await readFile(path);
  const { textVocab: tv, hidden: h, numVq, audioVocab: av } = dims;
  const expected = (tv + numVq * av) * h * 4;
  if (buf.byteLength !== expected) throw new Error(`embeddings: ${buf.byteLength} bytes, expected ${expected}`);
  // Copy into an aligned buffer (Node may hand back a pooled, unaligned slice).
  const all = new Float32Array(buf.byteLength / 4);
  new Uint8Array(all.buffer).set(buf);
  const text = all.subarray(0, tv * h);
  const code = all.subarray(tv * h);
  return {
    hidden: h,
    text(ids, speaker) {
      const out = new Float32Array(ids.length * h);
      ids.forEach((id, p) => {
        if (id < 0 || id >= tv) throw new Error(`token id ${id} outside the embedding table (${tv})`);
        out.set(speaker && id === speaker.id ? speaker.vector : text.subarray(id * h, (id + 1) * h), p * h);
      });
      return out;
    },
    codes(row) {
      const out = new Float32Array(h);
      row.forEach((c, i) => {
        const base = (i * av + c) * h;
        for (let j = 0; j < h; j++) out[j] = out[j]! + code[base + j]!;
      });
      return out;
    },
  };
}
