/**
 * Is a buffered WAV from a node whole? A node (or anything between it and us) can send a
 * well-formed HTTP response whose body is a cut WAV: content-length matches the short body, so
 * only the WAV's own chunk sizes show the loss. Forwarding it would be a 200 carrying broken
 * audio — a silent failure — so the caller treats it as a retryable upstream failure instead.
 * Found by the chaos proving ground (scenario 6; test/regressions/truncated-wav-forwarded.test.ts).
 * @module
 */

/** Null when the RIFF/WAVE body's `data` chunk is all there, else what is wrong. */
export function wavProblem(body: Buffer): string | null {
  if (body.length < 12 || body.toString('ascii', 0, 4) !== 'RIFF' || body.toString('ascii', 8, 12) !== 'WAVE') return 'not a RIFF/WAVE body';
  let offset = 12;
  while (offset + 8 <= body.length) {
    const id = body.toString('ascii', offset, offset + 4);
    const size = body.readUInt32LE(offset + 4);
    if (id === 'data') return offset + 8 + size <= body.length ? null : `data chunk declares ${size} bytes, ${body.length - offset - 8} present`;
    offset += 8 + size + (size % 2);
  }
  return 'no data chunk';
}
