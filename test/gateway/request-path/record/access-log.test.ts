import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../../gateway/src/observability/metrics.ts';
import { AccessLog, type RequestRecord } from '../../../../gateway/src/request-path/record/access-log.ts';

function capture(level = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

const ok: RequestRecord = {
  traceId: 'a'.repeat(32),
  route: '/v1/synthesize',
  status: 200,
  tenant: 'acme "quoted"',
  plan: 'pro',
  model: 'tts-hd',
  region: 'A',
  node: 'A-1',
  attempts: 2,
  attemptLog: [
    { node: 'A-2', outcome: 'upstream_reset', ms: 3 },
    { node: 'A-1', outcome: 'ok', ms: 41 },
  ],
  costMs: 44.44,
  inputLen: 12,
  queueMs: 0,
  degraded: 'region_failover',
  truncated: false,
  home: 'B',
};

describe('access log line', () => {
  it('is the line pino would write for the same fields, one per request', async () => {
    const mine = capture();
    new AccessLog(mine.log, createMetrics()).record(ok);
    const theirs = capture();
    theirs.log.info(
      {
        trace_id: ok.traceId,
        route: ok.route,
        status: ok.status,
        tenant: ok.tenant,
        plan: ok.plan,
        model: ok.model,
        region: ok.region,
        node: ok.node,
        attempts: ok.attempts,
        attempt_log: ok.attemptLog,
        cost_ms: 44.4,
        input_len: ok.inputLen,
        queue_ms: ok.queueMs,
        degraded: ok.degraded,
      },
      'request completed',
    );
    await flush();
    expect(mine.lines).toHaveLength(1);
    const a = JSON.parse(mine.lines[0]!) as Record<string, unknown>;
    const b = JSON.parse(theirs.lines[0]!) as Record<string, unknown>;
    expect(Math.abs(Number(a['time']) - Number(b['time']))).toBeLessThan(1_000);
    delete a['time'];
    delete b['time'];
    expect(a).toEqual(b);
    expect(Object.keys(a)).toEqual(Object.keys(b));
  });

  it('writes failures at warn and nothing below the logger level', async () => {
    const warnOnly = capture('warn');
    const access = new AccessLog(warnOnly.log, createMetrics());
    access.record(ok);
    access.record({ traceId: 'b'.repeat(32), route: '/v1/synthesize', status: 503, attempts: 0, costMs: 1, errorCode: 'VOX_ERR_BUSY' });
    await flush();
    expect(warnOnly.lines).toHaveLength(1);
    expect(JSON.parse(warnOnly.lines[0]!)).toMatchObject({ level: 40, svc: 'gateway', status: 503, error_code: 'VOX_ERR_BUSY', msg: 'request failed' });
  });
});
