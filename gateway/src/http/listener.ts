/**
 * The gateway's Node request listener. The two synthesis routes go straight to the request path
 * on the Node request and response; everything else (status, metrics, canary pages, the
 * playground, errors for unknown routes) goes through the Hono app.
 *
 * Why not Hono for synthesis too: per request, @hono/node-server builds a Request facade, three
 * listeners and a Context, and writes the web Response back onto the Node one. On the hot path
 * that was about 30 µs of the gateway's 470 µs main-thread CPU per request (bench/results/
 * profile.md, issue 8). A URL with a query string still reaches the same handler through Hono.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ErrorFlavor } from '../errors/to-response.ts';
import type { RequestPath } from '../request-path/index.ts';
import type { Exposure } from './exposure.ts';

/** POST routes served without Hono, by exact path. */
export const SYNTHESIS_ROUTES: Readonly<Record<string, ErrorFlavor>> = {
  '/v1/synthesize': 'native',
  '/v1/audio/speech': 'openai',
};

export function gatewayListener(app: Hono, path: RequestPath, exposure?: Exposure): RequestListener {
  const hono = getRequestListener(app.fetch);
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const url = incoming.url;
    const flavor = incoming.method === 'POST' && url !== undefined && Object.hasOwn(SYNTHESIS_ROUTES, url) ? SYNTHESIS_ROUTES[url] : undefined;
    if (flavor) path.node(incoming, outgoing, flavor);
    else if (!exposure?.refuse(incoming, outgoing)) void hono(incoming, outgoing);
  };
}
