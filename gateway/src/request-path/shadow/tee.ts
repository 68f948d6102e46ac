/**
 * Captures a streamed response body for the judge while it flows to the client. The client's
 * stream pulls from the returned `body`; each chunk is copied aside as it passes, so the client
 * never waits for the copy. `audio` resolves with the whole body once the client's stream has
 * ended, or with undefined when the body broke off or grew past `maxBytes` (then the copy stops
 * and the pair is dropped as `baseline_streamed`). Destroying `body` destroys the upstream body.
 * @module
 */
import { Readable } from 'node:stream';

/** Largest streamed body kept for the judge (~4 min of 16 kHz PCM16); larger ones are not compared. */
export const SHADOW_CAPTURE_MAX_BYTES = 8 * 1024 * 1024;

export interface Teed {
  body: Readable;
  audio: Promise<Buffer | undefined>;
}

/**
 * @example
 * const teed = teeBody(upstream, 8 << 20);
 * stream(teed.body); // to the client
 * const bytes = await teed.audio; // after the client got them
 */
export function teeBody(upstream: Readable, maxBytes: number): Teed {
  let resolve!: (b: Buffer | undefined) => void;
  const audio = new Promise<Buffer | undefined>((r) => (resolve = r));
  const it = (upstream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let keep = true;
  let finished = false;
  const finish = (complete: boolean) => {
    if (finished) return;
    finished = true;
    resolve(complete && keep ? Buffer.concat(chunks) : undefined);
    chunks.length = 0;
  };
  // Pull-based like respond.ts's pullStream: one upstream chunk per read(), so the client's
  // backpressure reaches the node exactly as it would without the tee.
  const body = new Readable({
    async read() {
      try {
        const r = await it.next();
        if (r.done) {
          finish(true);
          this.push(null);
          return;
        }
        if (keep) {
          size += r.value.length;
          if (size > maxBytes) {
            keep = false;
            chunks.length = 0;
          } else chunks.push(r.value);
        }
        this.push(r.value);
      } catch (err) {
        finish(false);
        this.destroy(err as Error);
      }
    },
    destroy(err, cb) {
      // The client went away (or the upstream failed) before the end: free the upstream socket.
      if (!finished) {
        finish(false);
        upstream.destroy();
      }
      cb(err);
    },
  });
  return { body, audio };
}
