/**
 * The innermost service: one HTTP call to the chosen node through its undici pool, as a
 * `Pool.dispatch` handler (node-call-handler.ts; never `fetch`). The attempt's AbortSignal
 * aborts the dispatch, so an expired try frees its socket. The remaining budget travels as
 * `x-request-deadline-ms` (relative, so clock skew between machines cannot break it). A 200 body
 * up to `buffer_max_bytes` is read whole; a larger one is handed on as a Node stream. Anything
 * else becomes a GatewayError here.
 * @module
 */
import { GatewayError } from '../errors/gateway-error.ts';
import { fromTransportError } from '../errors/from-upstream.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Service } from './service.ts';
import { formatTraceparent } from '../core/traceparent.ts';
import type { BodyPool } from './body-pool.ts';
import { NodeCallHandler } from './node-call-handler.ts';
import { bodyForNode } from './node-sample-rate.ts';
import type { Pools } from './pools.ts';

export interface CallNodeOptions {
  pools: Pools;
  clock: Clock;
  bufferMaxBytes: () => number;
  /** Where buffered bodies come from; the request path gives them back after the client write. */
  bodies: BodyPool;
}

/**
 * @example
 * const service = compose(...layers)(callNode({ pools, clock, bufferMaxBytes: () => 131072, bodies: new BodyPool(16 * 2 ** 20) }));
 */
export function callNode({ pools, clock, bufferMaxBytes, bodies }: CallNodeOptions): Service {
  return function callNodeService(req) {
    const e = req.endpoint;
    if (!e) return Promise.reject(new GatewayError('VOX_ERR_INTERNAL', 'no endpoint chosen'));
    const facts = { node: e.id, region: e.region };
    if (req.signal.aborted) return Promise.reject(req.signal.reason);
    const left = Math.max(1, req.deadlineAt - clock.now());
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-request-deadline-ms': String(left),
      traceparent: formatTraceparent(req.traceId),
    };
    if (req.shadow) headers['x-shadow'] = '1';
    return new Promise((resolve, reject) => {
      const handler = new NodeCallHandler({
        endpoint: e,
        facts,
        signal: req.signal,
        bufferMaxBytes: bufferMaxBytes(),
        bodies,
        now: () => clock.now(),
        resolve,
        reject,
      });
      try {
        pools.get(e.url).dispatch({ method: 'POST', path: '/v1/synthesize', headers, body: bodyForNode(req.body, e) }, handler);
      } catch (err) {
        handler.fail(fromTransportError(err, facts));
      }
    });
  };
}
