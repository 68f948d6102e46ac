/**
 * Is a buffered WAV from a node whole? A node (or anything between it and us) can send a
 * well-formed HTTP response whose body is a cut WAV: content-length matches the short body, so
 * only the WAV's own chunk sizes show the loss. Forwarding it would be a 200 carrying broken
 * audio — a silent failure — so the caller treats it as a retryable upstream failure instead.
 * Found by the chaos proving ground (scenario 6; test/regressions/truncated-wav-forwarded.test.ts).
 * @module
 */

import { wavLayout, WavLayoutError } from '../../../protocol/wav.ts';

/** Null when the RIFF/WAVE body's `data` chunk is all there, else what is wrong. */
export function wavProblem(body: Buffer): string | null {
  try {
    const { declaredBytes, presentBytes } = wavLayout(body);
    return presentBytes >= declaredBytes ? null : `data chunk declares ${declaredBytes} bytes, ${presentBytes} present`;
  } catch (err) {
    if (err instanceof WavLayoutError) return err.message;
    throw err;
  }
}
