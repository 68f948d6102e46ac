/**
 * The gateway's two front doors, both built from the one route table (routes.ts):
 *
 * - `app`: a Hono app with every route, a 405 for a known path with another method, a 404 for
 *   anything else, and a 500 `internal` for a handler that throws.
 * - `listener`: the Node request listener to serve. A route with a `node` handler (synthesis)
 *   runs straight on the Node request and response when method and path match exactly;
 *   everything else (other routes, a URL with a query string, errors) goes through `app`.
 *
 * Why not Hono for synthesis too: per request, @hono/node-server builds a Request facade, three
 * listeners and a Context, and writes the web Response back onto the Node one. On the hot path
 * that was about 30 µs of the gateway's 470 µs main-thread CPU per request (bench/results/
 * profile.md). `test/gateway/http/edge-contract.test.ts` checks both doors answer alike.
 *
 * What every answer carries whichever route made it is added here, once per door: the client's
 * `x-request-id` and `traceparent` echoed when valid, and CORS (cors.ts). The Node listener sets
 * them on the Node response before the route runs (Node merges them into its `writeHead`); under
 * `app.request()` a middleware sets them on the web Response.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { requestIdFrom } from '../core/request-id.ts';
import { parseTraceparent } from '../core/traceparent.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, type ErrorFlavor } from '../errors/to-response.ts';
import type { Logger } from '../observability/logger.ts';
import { traceIdFrom } from '../request-path/admit/trace.ts';
import { allowedOrigin, corsHeaders, preflightHeaders, type CorsConfig } from './cors.ts';
import type { Route } from './routes.ts';

export interface Edge {
  app: Hono;
  listener: RequestListener;
}

export interface EdgeOptions {
  log: Logger;
  /** Read per request, so a reload applies at once. */
  cors: () => CorsConfig;
}

/** What @hono/node-server passes as `c.env`; absent under `app.request()`. */
interface NodeBindings {
  incoming?: IncomingMessage;
}

/** The client's traceparent, normalised, when it is valid: echoed on the answer. */
function echoedTraceparent(header: string | undefined): string | undefined {
  return parseTraceparent(header) ? header!.trim().toLowerCase() : undefined;
}

function fail(c: Context, err: GatewayError, flavor: ErrorFlavor): Response {
  const out = errorResponse(err, traceIdFrom(c.req.header('traceparent')), flavor);
  return new Response(out.body, { status: out.status, headers: out.headers });
}

export function createEdge(routes: readonly Route[], options: EdgeOptions): Edge {
  const { log, cors } = options;
  const methods = new Map<string, string[]>();
  const flavors = new Map<string, ErrorFlavor>();
  for (const r of routes) {
    methods.set(r.path, [...(methods.get(r.path) ?? []), r.method]);
    flavors.set(r.path, r.flavor);
  }

  const app = new Hono();
  // The web door only: under @hono/node-server the listener below has done all of this.
  app.use('*', async (c, next) => {
    if ((c.env as NodeBindings | undefined)?.incoming) return next();
    const allowed = allowedOrigin(cors(), c.req.header('origin'));
    const known = methods.get(c.req.path);
    if (allowed && known && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined)
      return new Response(null, { status: 204, headers: preflightHeaders(allowed, known, cors()) });
    await next();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    const traceparent = echoedTraceparent(c.req.header('traceparent'));
    if (!requestId && !traceparent && !allowed) return;
    // A new Response rather than `c.res.headers.set`: @hono/node-server's Response stand-in
    // rebuilds its headers from the constructor's init when the body is read, dropping later sets.
    const headers = new Headers(c.res.headers);
    if (requestId) headers.set('x-request-id', requestId);
    if (traceparent) headers.set('traceparent', traceparent);
    if (allowed) for (const [k, v] of Object.entries(corsHeaders(allowed))) headers.set(k, v);
    c.res = new Response(c.res.body, { status: c.res.status, headers });
  });
  for (const r of routes) app.on(r.method, r.path, (c) => r.web(c));
  for (const [path, flavor] of flavors)
    app.all(path, (c) => fail(c, new GatewayError('VOX_ERR_METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${path}`), flavor));
  app.notFound((c) => fail(c, new GatewayError('VOX_ERR_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 'native'));
  app.onError((err, c) => {
    log.error({ err, path: c.req.path }, 'unhandled error');
    return fail(c, new GatewayError('VOX_ERR_INTERNAL', undefined, { cause: err }), flavors.get(c.req.path) ?? 'native');
  });

  // Exact path → the route with a Node handler: one map lookup and a method check per request.
  const direct = new Map<string, Route>();
  for (const r of routes) if (r.node) direct.set(r.path, r);
  const hono = getRequestListener(app.fetch);
  const listener: RequestListener = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const h = incoming.headers;
    const requestId = requestIdFrom(h['x-request-id'] as string | undefined);
    if (requestId) outgoing.setHeader('x-request-id', requestId);
    const traceparent = echoedTraceparent(h.traceparent as string | undefined);
    if (traceparent) outgoing.setHeader('traceparent', traceparent);
    const corsConfig = cors();
    if (corsConfig.allow_origins.length > 0 && h.origin !== undefined) {
      const allowed = allowedOrigin(corsConfig, h.origin);
      if (allowed) {
        const url = incoming.url ?? '/';
        const known = methods.get(url.includes('?') ? url.slice(0, url.indexOf('?')) : url);
        if (known && incoming.method === 'OPTIONS' && h['access-control-request-method'] !== undefined) {
          outgoing.writeHead(204, preflightHeaders(allowed, known, corsConfig));
          outgoing.end();
          return;
        }
        for (const [k, v] of Object.entries(corsHeaders(allowed))) outgoing.setHeader(k, v);
      }
    }
    const route = incoming.url === undefined ? undefined : direct.get(incoming.url);
    if (route?.node && route.method === incoming.method) route.node(incoming, outgoing);
    else void hono(incoming, outgoing);
  };
  return { app, listener };
}
