/**
 * The autocannon fallback of bench/lib/load.ts, run as its own process so the load generator
 * never shares an event loop with the orchestrator. Argument: one JSON `LoadSpec`. Prints one
 * line `ACJSON {…LoadResult}`. Think time is approximated with autocannon's per-connection rate
 * (1000 / thinkMs requests a second per connection).
 * @module
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './load.ts';

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
let i = 0;
const headers = { 'content-type': 'application/json', ...spec.headers };
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationS,
  timeout: spec.timeoutS ?? 10,
  requests: [
    {
      method: 'POST',
      path: spec.path ?? '/v1/synthesize',
      headers,
      setupRequest: (req: Record<string, unknown>) => ({ ...req, body: spec.bodies[i++ % spec.bodies.length] }),
    },
  ],
  ...(spec.thinkMs ? { connectionRate: Math.max(1, Math.round(1000 / spec.thinkMs)) } : {}),
});
const r = result as unknown as {
  requests: { total: number };
  duration: number;
  throughput: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
};
const out: LoadResult = {
  tool: 'autocannon',
  requests: r.requests.total,
  rps: r.requests.total / r.duration,
  durationS: r.duration,
  bytes: r.throughput.total,
  errors: r.errors + r.timeouts,
  non2xx: r.non2xx,
  p50: r.latency.p50,
  p90: r.latency.p90,
  p99: r.latency.p99,
  max: r.latency.max,
  mean: r.latency.mean,
};
process.stdout.write(`ACJSON ${JSON.stringify(out)}\n`);
