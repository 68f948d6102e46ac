import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../gateway/src/observability/metrics.ts';

describe('gateway metrics', () => {
  it('reads the in-flight gauge at scrape time', async () => {
    let inFlight = 7;
    const m = createMetrics({ inFlight: () => inFlight });
    expect(await m.registry.metrics()).toContain('voxgate_gateway_inflight_requests 7\n');
    inFlight = 0;
    expect(await m.registry.metrics()).toContain('voxgate_gateway_inflight_requests 0\n');
  });
});
