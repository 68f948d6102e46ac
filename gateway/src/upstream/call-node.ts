/**
 * The innermost service: one HTTP call to the chosen node through its undici pool
 * (`Pool.request`, never `fetch`). The attempt's AbortSignal goes to undici so an expired try
 * frees its socket. The remaining budget travels as `x-request-deadline-ms` (relative, so clock
 * skew between machines cannot break it). A 200 body up to `buffer_max_bytes` is read whole;
 * a larger one is handed on as the undici stream. Anything else becomes a GatewayError here.
 * @module
 */
import { GatewayError } from '../errors/gateway-error.ts';
import { fromTransportError, fromUpstreamStatus, parseRetryAfter } from '../errors/from-upstream.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Service } from '../layers/service.ts';
import type { Pools } from './pools.ts';
import { wavProblem } from './wav-integrity.ts';
import { randomHex } from '../request-path/admit/trace.ts';

const ERROR_BODY_MAX = 16 * 1024;

export interface CallNodeOptions {
  pools: Pools;
  clock: Clock;
  bufferMaxBytes: () => number;
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

async function readCapped(body: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * @example
 * const service = compose(...layers)(callNode({ pools, clock, bufferMaxBytes: () => 131072 }));
 */
export function callNode({ pools, clock, bufferMaxBytes }: CallNodeOptions): Service {
  return async function callNodeService(req) {
    const e = req.endpoint;
    if (!e) throw new GatewayError('VOX_ERR_INTERNAL', 'no endpoint chosen');
    const facts = { node: e.id, region: e.region };
    const left = Math.max(1, req.deadlineAt - clock.now());
    let res;
    try {
      res = await pools.get(e.url).request({
        method: 'POST',
        path: '/v1/synthesize',
        headers: {
          'content-type': 'application/json',
          'x-request-deadline-ms': String(left),
          traceparent: `00-${req.traceId}-${randomHex(8)}-01`,
          ...(req.shadow ? { 'x-shadow': '1' } : {}),
        },
        body: req.body,
        signal: req.signal,
      });
    } catch (err) {
      if (req.signal.aborted) throw req.signal.reason;
      throw fromTransportError(err, facts);
    }
    const headers: Record<string, string> = {};
    for (const k in res.headers) {
      const s = headerString(res.headers[k]);
      if (s !== undefined) headers[k] = s;
    }
    try {
      if (res.statusCode !== 200) {
        const text = (await readCapped(res.body, ERROR_BODY_MAX)).toString('utf8');
        res.body.destroy();
        throw fromUpstreamStatus(res.statusCode, text, parseRetryAfter(res.headers['retry-after'], clock.now()), facts);
      }
      const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
      if (len !== undefined && Number.isFinite(len) && len <= bufferMaxBytes()) {
        const body = Buffer.from(await res.body.arrayBuffer());
        if (body.length !== len) throw new GatewayError('VOX_ERR_UPSTREAM_RESET', `node ${e.id} sent ${body.length} of ${len} bytes`, { upstream: facts });
        const cut = headers['content-type'] === 'audio/wav' ? wavProblem(body) : null;
        if (cut) throw new GatewayError('VOX_ERR_UPSTREAM_RESET', `node ${e.id} sent an incomplete WAV: ${cut}`, { upstream: facts });
        return { status: 200, headers, body, contentLength: len, node: e.id, region: e.region };
      }
      return { status: 200, headers, body: res.body, contentLength: len, node: e.id, region: e.region };
    } catch (err) {
      res.body.destroy();
      if (req.signal.aborted) throw req.signal.reason;
      throw fromTransportError(err, facts);
    }
  };
}
