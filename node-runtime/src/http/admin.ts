/**
 * Operator endpoints. They exist only when an admin token is configured, and compare it in
 * constant time so response timing does not leak how much of a guess was right.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { RuntimeError } from '../errors/runtime-error.ts';
import type { ModelRegistry } from '../packs/registry.ts';
import type { RuntimeEnv } from './context.ts';

export function createAdminHandlers(options: { adminToken: string | undefined; registry: ModelRegistry }) {
  const expected = options.adminToken === undefined ? undefined : digest(options.adminToken);

  function authorise(c: Context<RuntimeEnv>): void {
    if (!expected) throw new RuntimeError('not_found', 'not found');
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(token), expected)) throw new RuntimeError('unauthorized', 'admin token required');
  }

  return {
    reload: async function reloadModels(c: Context<RuntimeEnv>) {
      authorise(c);
      const report = await options.registry.reload();
      return c.json({ models: options.registry.describe(), ...report });
    },
  };
}

/** Hashing first makes both sides the same length, which timingSafeEqual requires. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
