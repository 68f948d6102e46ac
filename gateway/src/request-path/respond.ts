/**
 * Turns a served upstream response into the client's response. Buffered bodies are sent whole.
 * Large bodies stream through a pull-based ReadableStream over the undici body (never
 * `Readable.toWeb`, which crashes the process when clients hang up mid-body: Node #64529). A body
 * that ends short of its Content-Length errors the stream, so the client's connection is
 * destroyed: an upstream that dies mid-body never reaches the client as a complete success.
 * @module
 */
import type { Readable } from 'node:stream';

export function pullStream(body: Readable, expected: number | undefined, onDone: (err?: unknown) => void): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let seen = 0;
  let finished = false;
  const finish = (err?: unknown) => {
    if (!finished) {
      finished = true;
      onDone(err);
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await it.next();
        if (r.done) {
          if (expected !== undefined && seen !== expected) throw new Error(`upstream body ended at ${seen} of ${expected} bytes`);
          ctrl.close();
          finish();
        } else {
          seen += r.value.length;
          ctrl.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
        }
      } catch (err) {
        body.destroy();
        ctrl.error(err);
        finish(err);
      }
    },
    cancel(reason) {
      body.destroy();
      finish(reason ?? new Error('client cancelled'));
    },
  });
}
