import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify, outcomeOf } from '../../../gateway/src/errors/classify.ts';
import { ERROR_CODES } from '../../../gateway/src/errors/codes.ts';
import { retryDecision } from '../../../gateway/src/layers/retry/retry-policy.ts';
import { GatewayError, findGatewayError } from '../../../gateway/src/errors/gateway-error.ts';
import { errorResponse } from '../../../gateway/src/errors/to-response.ts';
import { fromTransportError, fromUpstreamStatus, parseRetryAfter } from '../../../gateway/src/errors/from-upstream.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const docRows = [...doc.matchAll(/^\| `(VOX_ERR_[A-Z_]+)` \| (\d{3}) \| `([a-z_]+)` \| (?:yes|no) \| ([a-z_]+) \| ([a-z_]+) \| ([a-z_]+) \|/gm)].map((m) => ({
  code: m[1]!,
  status: Number(m[2]),
  wire: m[3]!,
  outcome: m[4]!,
  retry: m[5]!,
  node: m[6]!,
}));

describe('error catalogue', () => {
  it('has unique codes and unique wire codes', () => {
    const wires = Object.values(ERROR_CODES).map((s) => s.wire);
    expect(new Set(wires).size).toBe(wires.length);
    expect(Object.keys(ERROR_CODES).every((k) => k.startsWith('VOX_ERR_'))).toBe(true);
  });

  it('is listed in docs/errors.md exactly, with the same status and wire code', () => {
    expect(docRows.map((r) => r.code).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const r of docRows) {
      const spec = ERROR_CODES[r.code as keyof typeof ERROR_CODES];
      expect(r).toEqual({ code: r.code, status: spec.status, wire: spec.wire, outcome: spec.outcome, retry: spec.retry, node: spec.node });
    }
  });

  it('gives each code an outcome that fits its status, and derives every decision from it', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const fits = {
        client_error: spec.status >= 400 && spec.status < 500 && spec.status !== 429 && spec.status !== 499,
        client_gone: spec.status === 499,
        shed: spec.status === 429 || spec.status === 503,
        service_failure: spec.status >= 500,
      }[spec.outcome];
      expect(fits, `${code}: ${spec.outcome} with ${spec.status}`).toBe(true);
      const err = new GatewayError(code as keyof typeof ERROR_CODES);
      expect([outcomeOf(err), retryDecision(err), classify(err)]).toEqual([spec.outcome, spec.retry, spec.node]);
    }
    expect([outcomeOf(undefined), classify(undefined)]).toEqual(['served', 'success']);
    // Anything that is not a GatewayError is a bug in the gateway, never the node's or client's.
    expect([outcomeOf(new TypeError('x')), classify(new TypeError('x'))]).toEqual(['service_failure', 'failure']);
    // Only "no capacity anywhere for this model" sends dispatch to the other model.
    const otherModel = Object.entries(ERROR_CODES)
      .filter(([, s]) => s.retry === 'other_model')
      .map(([c]) => c);
    expect(otherModel.sort()).toEqual(['VOX_ERR_BUSY', 'VOX_ERR_NO_CAPACITY']);
  });

  it('uses only the statuses the contract allows', () => {
    const allowed = new Set([400, 401, 403, 404, 405, 413, 415, 422, 429, 499, 500, 503, 504]);
    for (const spec of Object.values(ERROR_CODES)) expect(allowed.has(spec.status)).toBe(true);
  });
});

describe('to-response', () => {
  it('builds the native envelope with Retry-After on 429/503', () => {
    const out = errorResponse(new GatewayError('VOX_ERR_RATE_LIMITED', 'slow down', { retryAfterMs: 2500 }), 'abc', 'native');
    expect(out.status).toBe(429);
    expect(out.headers['retry-after']).toBe('3');
    expect(JSON.parse(out.body)).toEqual({ error: { code: 'rate_limited', message: 'slow down', trace_id: 'abc', retryable: true } });
  });

  it('builds the OpenAI shape', () => {
    const out = errorResponse(new GatewayError('VOX_ERR_UNSUPPORTED_FORMAT', 'no mp3', { param: 'response_format' }), 't', 'openai');
    expect(out.status).toBe(400);
    expect(JSON.parse(out.body)).toEqual({ error: { message: 'no mp3', type: 'invalid_request_error', code: 'unsupported_format', param: 'response_format' } });
  });

  it('walks causes and hides unknown errors as internal', () => {
    const wrapped = new Error('outer', { cause: new GatewayError('VOX_ERR_BUSY') });
    expect(findGatewayError(wrapped)?.code).toBe('VOX_ERR_BUSY');
    const out = errorResponse(new TypeError('secret stack detail'), 't', 'native');
    expect(out.status).toBe(500);
    expect(out.body).not.toContain('secret');
  });
});

describe('from-upstream', () => {
  const facts = { node: 'n1', region: 'r1' };
  it('maps transport errors by code', () => {
    expect(fromTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), facts).code).toBe('VOX_ERR_UPSTREAM_CONNECT');
    expect(fromTransportError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }), facts).code).toBe('VOX_ERR_UPSTREAM_RESET');
  });
  it('maps node statuses', () => {
    const env = (code: string) => JSON.stringify({ error: { code, message: 'm' } });
    expect(fromUpstreamStatus(503, env('queue_full'), 1000, facts).code).toBe('VOX_ERR_UPSTREAM_BUSY');
    expect(fromUpstreamStatus(503, env('engine_failure'), undefined, facts).code).toBe('VOX_ERR_UPSTREAM_FAILURE');
    expect(fromUpstreamStatus(500, 'oops', undefined, facts).code).toBe('VOX_ERR_UPSTREAM_FAILURE');
    const rejected = fromUpstreamStatus(422, env('unknown_voice'), undefined, facts);
    expect([rejected.code, rejected.status, rejected.wire]).toEqual(['VOX_ERR_UPSTREAM_REJECTED', 422, 'unknown_voice']);
  });
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
