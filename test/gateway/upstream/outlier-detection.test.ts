import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../gateway/src/errors/gateway-error.ts';
import { systemClock } from '../../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../../gateway/src/observability/logger.ts';
import { createMetrics } from '../../../gateway/src/observability/metrics.ts';
import { EndpointSet } from '../../../gateway/src/upstream/endpoints.ts';
import { OutlierDetector } from '../../../gateway/src/upstream/outlier-detection.ts';

function setup() {
  const endpoints = new EndpointSet([{ name: 'r', priority: 0, nodes: [{ id: 'a', url: 'http://127.0.0.1:1', models: ['m'] }] }], systemClock);
  const outliers = new OutlierDetector({
    endpoints,
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    config: () => ({ consecutive_failures: 5, consecutive_connect_failures: 1, base_ejection_ms: 1000, max_ejection_ms: 10_000, max_ejection_percent: 50 }),
    maxRetryAfterMs: () => 1000,
  });
  return { node: endpoints.get('a')!, outliers };
}

describe('outlier detection', () => {
  it('a connection that broke before the node answered takes the node out at once, like a refused connect', () => {
    const { node, outliers } = setup();
    outliers.failure(node, new GatewayError('VOX_ERR_UPSTREAM_RESET', 'other side closed', { upstream: { node: 'a', region: 'r' } }));
    expect(node.healthy).toBe(false);
  });

  it('a reset after the node answered (mid-body) is an ordinary failure: ejection only after 5 in a row', () => {
    const { node, outliers } = setup();
    const midBody = () => new GatewayError('VOX_ERR_UPSTREAM_RESET', 'sent 10 of 100 bytes', { upstream: { node: 'a', region: 'r', status: 200 } });
    for (let i = 0; i < 4; i++) outliers.failure(node, midBody());
    expect([node.healthy, node.isEjected(Date.now())]).toEqual([true, false]);
    outliers.failure(node, midBody());
    expect([node.healthy, node.isEjected(Date.now())]).toEqual([true, true]);
  });
});
