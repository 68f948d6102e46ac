/**
 * Security checks of the proving ground: admin endpoints refuse requests without the admin
 * token; client credentials never reach nodes; errors never leak stack traces.
 */
import { expect, it } from 'vitest';
import { security } from './scenarios/security.ts';

it('admin token required, credentials not forwarded, no stack traces in errors', async () => {
  const r = await security();
  expect(r.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
}, 90_000);
