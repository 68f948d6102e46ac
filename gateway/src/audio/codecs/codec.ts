/**
 * The worker-side codec contract: synchronous, one instance per response, fed PCM16 mono at one
 * rate. Every codec returns the bytes it can emit now, so the response streams as it is encoded.
 * @module
 */
export interface Codec {
  /** Encoded bytes for `pcm` (possibly empty: codecs work in frames). */
  encode(pcm: Int16Array): Uint8Array;
  /** The rest of the stream: buffered samples, padding, trailers. */
  finish(): Uint8Array;
  /** Frees native or WebAssembly memory; safe after finish() and more than once. */
  free(): void;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
