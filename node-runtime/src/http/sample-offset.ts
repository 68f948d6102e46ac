/**
 * `offset_samples`: start the answer n samples in. A gateway resuming a broken stream on another
 * node asks for the samples it has not delivered yet; with a deterministic pack the splice is
 * then byte-exact. The engine still computes the skipped audio (a model cannot jump ahead), but
 * none of it is sent.
 * @module
 */

/** The same chunks without their first `offset` samples; chunks wholly before it are dropped. */
export async function* skipSamples(chunks: AsyncIterable<Int16Array>, offset: number): AsyncGenerator<Int16Array> {
  let remaining = offset;
  for await (const chunk of chunks) {
    if (remaining >= chunk.length) {
      remaining -= chunk.length;
      continue;
    }
    yield remaining > 0 ? chunk.subarray(remaining) : chunk;
    remaining = 0;
  }
}
