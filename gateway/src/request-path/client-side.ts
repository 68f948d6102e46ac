/**
 * The client's side of one exchange as the request path reads it (headers, body, path, and
 * when the client goes away), from a Node request (the gateway's own listener) or a web request
 * (the Hono app under `app.request()`).
 * @module
 */
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, readIncoming } from './admit/body.ts';
import type { Deadline } from './admit/deadline.ts';

/**
 * A request header from the Node request. Node keeps only the first of a repeated Authorization
 * header where web `Headers` joins them (and the join then fails the Bearer check), so that one
 * is read from the raw list with the same joining.
 */
function nodeHeader(incoming: IncomingMessage, name: string): string | undefined {
  if (name === 'authorization') {
    const raw = incoming.rawHeaders;
    let out: string | undefined;
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') out = out === undefined ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
    return out;
  }
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The client's side of one exchange, as the request path reads it. */
export interface ClientSide {
  readonly path: string;
  header(name: string): string | undefined;
  body(limit: number): Promise<Buffer>;
  /** Tells the deadline when the client goes away before the response has finished. */
  watch(deadline: Deadline): void;
}

/** A Node request (the gateway's listener): no web Request, Headers or AbortController. */
export class NodeClient implements ClientSide {
  constructor(
    readonly incoming: IncomingMessage,
    readonly outgoing: ServerResponse,
  ) {}
  get path(): string {
    const url = this.incoming.url ?? '/';
    const q = url.indexOf('?');
    return q < 0 ? url : url.slice(0, q);
  }
  header(name: string): string | undefined {
    return nodeHeader(this.incoming, name);
  }
  body(limit: number): Promise<Buffer> {
    return readIncoming(this.incoming, nodeHeader(this.incoming, 'content-type'), limit).catch((err: unknown) => {
      // The rest of an over-long body is not worth reading: answer 413, then close. Closing
      // only after the answer is written is what lets a chunked uploader see its 413.
      if ((err as { code?: unknown }).code === 'VOX_ERR_BODY_TOO_LARGE' && !this.outgoing.headersSent) this.outgoing.setHeader('connection', 'close');
      throw err;
    });
  }
  watch(deadline: Deadline): void {
    const outgoing = this.outgoing;
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) deadline.clientClosed();
    });
  }
}

/** A web request through the Hono app (`app.request()`): its signal says when the client left. */
export class WebClient implements ClientSide {
  constructor(readonly c: Context) {}
  get path(): string {
    return this.c.req.path;
  }
  header(name: string): string | undefined {
    return this.c.req.header(name);
  }
  body(limit: number): Promise<Buffer> {
    return readBody(this.c.req.raw, limit);
  }
  watch(deadline: Deadline): void {
    const signal = this.c.req.raw.signal;
    if (signal.aborted) deadline.clientClosed();
    else signal.addEventListener('abort', deadline.clientClosed, { once: true });
  }
}
