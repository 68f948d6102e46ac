/**
 * Reusable buffers for buffered upstream bodies (200s up to `upstream.buffer_max_bytes`).
 *
 * Each such body used to be a fresh 64 KiB+ ArrayBuffer: at c=128 the gateway held 62 MB of
 * them waiting for a scavenge (external memory, against the bench's RSS goal), and freeing them was a
 * large share of its GC time. Buffers come in 16 KiB size classes; a class keeps what comes
 * back up to a byte cap, so a burst does not pin its high-water mark for ever.
 *
 * Ownership is single and explicit: the request path gives a body back once the client's write
 * has finished (request-path/respond.ts). A body that is never given back (a client that hung
 * up mid-write, a failed try) is ordinary garbage. Whoever keeps the bytes beyond that point
 * (the shadow mirror) copies them.
 * @module
 */

const CLASS_BYTES = 16 * 1024;

export class BodyPool {
  /** Free buffers by size class (index = capacity / 16 KiB). */
  readonly #free: Buffer[][] = [];
  #kept = 0;

  /** @param maxKeptBytes what the free lists may hold in all. */
  constructor(private readonly maxKeptBytes: number) {}

  /** A buffer of exactly `length` bytes (uninitialised, like `Buffer.allocUnsafe`). */
  take(length: number): Buffer {
    const cls = Math.max(1, Math.ceil(length / CLASS_BYTES));
    const slab = this.#free[cls]?.pop();
    if (slab) {
      this.#kept -= slab.length;
      return slab.subarray(0, length);
    }
    return Buffer.allocUnsafeSlow(cls * CLASS_BYTES).subarray(0, length);
  }

  /** Gives back a buffer from `take`; the caller must not touch it afterwards. */
  give(body: Buffer): void {
    const capacity = body.buffer.byteLength;
    // Only whole slabs this pool made come back (a Buffer from elsewhere is left to the GC).
    if (body.byteOffset !== 0 || capacity % CLASS_BYTES !== 0 || this.#kept + capacity > this.maxKeptBytes) return;
    const cls = capacity / CLASS_BYTES;
    (this.#free[cls] ??= []).push(Buffer.from(body.buffer, 0, capacity));
    this.#kept += capacity;
  }

  /** Bytes waiting in the free lists. */
  get keptBytes(): number {
    return this.#kept;
  }
}
