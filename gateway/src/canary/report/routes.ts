/**
 * The canary's HTTP surface on the gateway: `GET /v1/canary/report` (JSON, docs/contract.md) and
 * `GET /canary` (the page). Both build the report on request from in-memory windows.
 * @module
 */
import type { Hono } from 'hono';
import type { Report } from './report-types.ts';
import { renderPage } from './page.ts';

export function mountCanaryRoutes(app: Hono, report: () => Report): void {
  app.get('/v1/canary/report', (c) => c.json(report()));
  app.get('/canary', (c) => c.html(renderPage(report())));
}
