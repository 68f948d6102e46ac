import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../gateway/src/observability/metrics.ts';
import { recordRequest } from '../../../gateway/src/request-path/record/access-log.ts';

describe('gateway metrics', () => {
  it('reads the in-flight gauge at scrape time', async () => {
    let inFlight = 7;
    const m = createMetrics({ inFlight: () => inFlight });
    expect(await m.registry.metrics()).toContain('voxgate_gateway_inflight_requests 7\n');
    inFlight = 0;
    expect(await m.registry.metrics()).toContain('voxgate_gateway_inflight_requests 0\n');
  });

  it('counts every finished request by outcome, and a client that left never as a 5xx', async () => {
    const m = createMetrics();
    const log = createLogger({ level: 'silent' });
    const base = { traceId: 't', route: '/v1/synthesize', attempts: 1, costMs: 1 };
    recordRequest(log, m, { ...base, status: 200, outcome: 'served' });
    recordRequest(log, m, { ...base, status: 499, outcome: 'client_gone', errorCode: 'client_closed' });
    recordRequest(log, m, { ...base, status: 503, outcome: 'shed', errorCode: 'no_capacity' });
    recordRequest(log, m, { ...base, status: 503, outcome: 'service_failure', errorCode: 'upstream_unavailable' });
    const text = await m.registry.metrics();
    expect(text).toContain('voxgate_gateway_outcomes_total{outcome="served",code="ok"} 1\n');
    expect(text).toContain('voxgate_gateway_outcomes_total{outcome="client_gone",code="client_closed"} 1\n');
    expect(text).toContain('voxgate_gateway_outcomes_total{outcome="shed",code="no_capacity"} 1\n');
    expect(text).toContain('voxgate_gateway_outcomes_total{outcome="service_failure",code="upstream_unavailable"} 1\n');
    expect(text).toContain('voxgate_gateway_responses_5xx_total{code="upstream_unavailable"} 1\n');
    expect(text).toContain('voxgate_gateway_responses_5xx_total{code="no_capacity"} 1\n');
    expect(text).not.toContain('voxgate_gateway_responses_5xx_total{code="client_closed"}');
  });
});
