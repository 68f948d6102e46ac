/**
 * Who may read the operational pages. `/v1/status` names every node's internal URL, `/metrics`
 * every tenant's plan and traffic, the canary pages every model under test: fine on a developer's
 * machine, not on the internet. Each is `public`, `token` (Bearer with the gateway's admin token)
 * or `off` (404, as if it did not exist), from config `exposure`.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';

export type PageGroup = keyof Config['exposure'];

/** Which group a GET path belongs to, if any. */
export function pageGroupOf(path: string): PageGroup | undefined {
  if (path === '/v1/status') return 'status';
  if (path === '/metrics') return 'metrics';
  if (path === '/canary' || path.startsWith('/canary/') || path === '/v1/canary/report' || path.startsWith('/v1/canary/')) return 'canary';
  return undefined;
}

export interface Exposure {
  /** True when the request carries the admin token. */
  authorised(authorization: string | undefined): boolean;
  /** The error that refuses this page to this caller (404 when off, 401 without the token), or undefined. */
  refusal(group: PageGroup, authorization: string | undefined): GatewayError | undefined;
  /** Node URLs in `/v1/status`: for a caller with the token, or a local config. */
  showNodeUrls(authorization: string | undefined): boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * @example
 * const exposure = createExposure(() => config, adminToken);
 * const refused = exposure.refusal('metrics', c.req.header('authorization'));
 */
export function createExposure(config: () => Pick<Config, 'exposure' | 'local'>, adminToken: string | undefined): Exposure {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  const authorised = (authorization: string | undefined): boolean => {
    if (expected === undefined || authorization === undefined) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m !== null && timingSafeEqual(digest(m[1]!), expected);
  };
  return {
    authorised,
    showNodeUrls: (authorization) => config().local || authorised(authorization),
    refusal(group, authorization) {
      const mode = config().exposure[group];
      if (mode === 'public') return undefined;
      if (mode === 'token' && authorised(authorization)) return undefined;
      return mode === 'off'
        ? new GatewayError('VOX_ERR_NOT_FOUND', 'no such route')
        : new GatewayError('VOX_ERR_UNAUTHORIZED', 'this page needs the admin token');
    },
  };
}
