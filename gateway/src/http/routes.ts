/**
 * The gateway's one route table: every path it serves, its method, its error flavour and its
 * handler. The Hono app and the Node listener are both built from it (edge.ts); nothing else
 * lists routes. `test/gateway/http/edge-contract.test.ts` runs the same requests through both.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { renderPage } from '../canary/report/page.ts';
import type { Report } from '../canary/report/report-types.ts';
import type { Config } from '../config/schema.ts';
import { errorResponse, type ErrorFlavor } from '../errors/to-response.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { createPlaygroundHandler } from '../playground/playground.ts';
import type { RequestPath } from '../request-path/index.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { Exposure, PageGroup } from './exposure.ts';
import { statusBody } from './status.ts';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface Route {
  method: Method;
  path: string;
  /** The error shape for this path, 405s included. */
  flavor: ErrorFlavor;
  /** The handler on Hono (under @hono/node-server or `app.request()`). */
  web(c: Context): Response | Promise<Response>;
  /**
   * The same route straight on the Node request and response, skipping Hono: the synthesis fast
   * path (edge.ts says why). Absent: the Node listener hands the request to Hono.
   */
  node?(incoming: IncomingMessage, outgoing: ServerResponse): void;
}

export interface RouteDeps {
  path: RequestPath;
  config: () => Config;
  endpoints: EndpointSet;
  clock: Clock;
  metrics: GatewayMetrics;
  draining: () => boolean;
  canaryReport: () => Report;
  /** Who may read status, metrics and the canary pages (config `exposure`). */
  exposure: Exposure;
}

/** A page of `group`, answered 404/401 instead when `exposure` says this caller may not see it. */
function guarded(exposure: Exposure, group: PageGroup, web: Route['web']): Route['web'] {
  return (c) => {
    const refused = exposure.refusal(group, c.req.header('authorization'));
    if (!refused) return web(c);
    const out = errorResponse(refused, '-', 'native');
    return new Response(out.body, { status: out.status, headers: out.headers });
  };
}

function synthesis(path: string, flavor: ErrorFlavor, handle: RequestPath): Route {
  return {
    method: 'POST',
    path,
    flavor,
    web: (c) => handle.web(c, flavor),
    node: (incoming, outgoing) => handle.node(incoming, outgoing, flavor),
  };
}

function get(path: string, web: Route['web']): Route {
  return { method: 'GET', path, flavor: 'native', web };
}

/** What a feature's routes are declared on (jobs, presynth): Hono-style paths, `:id` params included. */
export interface RouteSink {
  get(path: string, web: Route['web']): void;
  post(path: string, web: Route['web']): void;
  delete(path: string, web: Route['web']): void;
}

/** A sink whose routes join the table (they run through Hono on both front doors). */
export function routeSink(into: Route[]): RouteSink {
  const add = (method: Method) => (path: string, web: Route['web']) => void into.push({ method, path, flavor: 'native', web });
  return { get: add('GET'), post: add('POST'), delete: add('DELETE') };
}

/**
 * @example
 * const { app, listener } = createEdge(routeTable(deps), log);
 */
export function routeTable(d: RouteDeps): readonly Route[] {
  return [
    synthesis('/v1/synthesize', 'native', d.path),
    synthesis('/v1/audio/speech', 'openai', d.path),
    get(
      '/v1/status',
      guarded(d.exposure, 'status', (c) => c.json(statusBody(d.endpoints, d.config().region, d.clock, d.exposure.showNodeUrls(c.req.header('authorization'))))),
    ),
    get('/', createPlaygroundHandler(d.config)),
    get(
      '/metrics',
      guarded(d.exposure, 'metrics', async (c) => c.body(await d.metrics.registry.metrics(), 200, { 'content-type': d.metrics.registry.contentType })),
    ),
    get('/healthz', (c) => c.json({ status: 'ok' })),
    get('/readyz', (c) => {
      const now = d.clock.now();
      const draining = d.draining();
      const anyNode = d.endpoints.all().some((e) => e.isAvailable(now));
      return draining || !anyNode ? c.json({ ready: false, draining }, 503) : c.json({ ready: true });
    }),
    get(
      '/v1/canary/report',
      guarded(d.exposure, 'canary', (c) => c.json(d.canaryReport())),
    ),
    get(
      '/canary',
      guarded(d.exposure, 'canary', (c) => c.html(renderPage(d.canaryReport()))),
    ),
  ];
}
