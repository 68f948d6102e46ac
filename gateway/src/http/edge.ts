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
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { GatewayError } from '../errors/gateway-error.ts';
import { errorResponse, type ErrorFlavor } from '../errors/to-response.ts';
import type { Logger } from '../observability/logger.ts';
import type { Route } from './routes.ts';

export interface Edge {
  app: Hono;
  listener: RequestListener;
}

function fail(c: Context, err: GatewayError, flavor: ErrorFlavor): Response {
  const out = errorResponse(err, c.res.headers.get('x-trace-id') ?? '-', flavor);
  return new Response(out.body, { status: out.status, headers: out.headers });
}

export function createEdge(routes: readonly Route[], log: Logger): Edge {
  const app = new Hono();
  for (const r of routes) app.on(r.method, r.path, (c) => r.web(c));
  const flavors = new Map<string, ErrorFlavor>();
  for (const r of routes) flavors.set(r.path, r.flavor);
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
    const route = incoming.url === undefined ? undefined : direct.get(incoming.url);
    if (route?.node && route.method === incoming.method) route.node(incoming, outgoing);
    else void hono(incoming, outgoing);
  };
  return { app, listener };
}
