/**
 * Turns what the request path decided into the client's response, two ways:
 *
 * - `writeReply`: straight onto the Node response (the gateway's own listener, http/edge.ts).
 *   A buffered body goes out in one `end()` and back to the body pool once written; a streamed
 *   body is piped with backpressure.
 * - `toResponse`: a web `Response` for the Hono app (`app.request()`, other servers). Streams go
 *   through a pull-based ReadableStream over the undici body (never `Readable.toWeb`, which
 *   crashes the process when clients hang up mid-body: Node #64529).
 *
 * Either way a body that ends short of its Content-Length destroys the client's connection: an
 * upstream that dies mid-body never reaches the client as a complete success.
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ErrorBody } from '../errors/to-response.ts';
import type { BodyPool } from '../upstream/body-pool.ts';

export type Reply =
  /** A buffered 200 body from the body pool. */
  | { kind: 'audio'; headers: Record<string, string>; body: Buffer }
  /**
   * A streamed 200 body; `done` hears once whether all of it went out. `trailers` (named in the
   * `trailer` header) are asked for once the body has ended and sent after it (chunked only).
   */
  | {
      kind: 'stream';
      headers: Record<string, string>;
      body: Readable;
      expected: number | undefined;
      done: (err?: unknown) => void;
      trailers?: () => Record<string, string>;
    }
  | { kind: 'error'; status: number; headers: Record<string, string>; body: string };

export function errorReply(out: ErrorBody): Reply {
  return { kind: 'error', status: out.status, headers: out.headers, body: out.body };
}

export function writeReply(outgoing: ServerResponse, reply: Reply, bodies: BodyPool): void {
  switch (reply.kind) {
    case 'audio': {
      const body = reply.body;
      outgoing.writeHead(200, reply.headers);
      // Called on 'finish' (the kernel has the bytes) or with an error when the client went away
      // first: then the socket may still hold the buffer, so it is left to the GC.
      outgoing.end(body, (err?: Error | null) => {
        if (!err) bodies.give(body);
      });
      return;
    }
    case 'stream': {
      // An HTTP/1.0 client gets no chunked encoding, and Node refuses a `trailer` header
      // without it: the values the trailers would carry stay in the access line.
      const chunked = outgoing.req?.httpVersion !== '1.0';
      const headers = chunked ? reply.headers : withoutTrailerHeader(reply.headers);
      outgoing.writeHead(200, headers);
      pipeChecked(reply.body, reply.expected, outgoing, reply.done, chunked ? reply.trailers : undefined);
      return;
    }
    case 'error':
      outgoing.writeHead(reply.status, reply.headers);
      outgoing.end(reply.body);
  }
}

export function toResponse(reply: Reply): Response {
  switch (reply.kind) {
    case 'audio': {
      const b = reply.body;
      return new Response(new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength), { status: 200, headers: reply.headers });
    }
    case 'stream':
      return new Response(pullStream(reply.body, reply.expected, reply.done), { status: 200, headers: reply.headers });
    case 'error':
      return new Response(reply.body, { status: reply.status, headers: reply.headers });
  }
}

/** Once-only completion report for a streamed body. */
function once(onDone: (err?: unknown) => void): (err?: unknown) => void {
  let finished = false;
  return (err) => {
    if (!finished) {
      finished = true;
      onDone(err);
    }
  };
}

function shortBody(seen: number, expected: number): Error {
  return new Error(`upstream body ended at ${seen} of ${expected} bytes`);
}

function withoutTrailerHeader(headers: Record<string, string>): Record<string, string> {
  const { trailer: _trailer, ...rest } = headers;
  return rest;
}

function pipeChecked(
  body: Readable,
  expected: number | undefined,
  outgoing: ServerResponse,
  onDone: (err?: unknown) => void,
  trailers?: () => Record<string, string>,
): void {
  const finish = once(onDone);
  let seen = 0;
  body.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (!outgoing.write(chunk)) body.pause();
  });
  outgoing.on('drain', () => body.resume());
  body.once('end', () => {
    if (expected !== undefined && seen !== expected) {
      const err = shortBody(seen, expected);
      outgoing.destroy(err);
      finish(err);
      return;
    }
    if (trailers && outgoing.chunkedEncoding) outgoing.addTrailers(trailers());
    outgoing.end();
    finish();
  });
  body.once('error', (err) => {
    // A stream that fails after the headers is cut with a TCP RST: no clean end a client could
    // take for a whole answer, and the kernel drops what it still buffered for a slow reader.
    outgoing.socket?.resetAndDestroy();
    outgoing.destroy(err);
    finish(err);
  });
  outgoing.once('close', () => {
    if (outgoing.writableFinished) return;
    body.destroy();
    finish(new Error('client cancelled'));
  });
}

export function pullStream(body: Readable, expected: number | undefined, onDone: (err?: unknown) => void): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const finish = once(onDone);
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await it.next();
        if (r.done) {
          if (expected !== undefined && seen !== expected) throw shortBody(seen, expected);
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
