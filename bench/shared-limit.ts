/**
 * What sharing a tenant's rate limit through Redis adds to admission: the latency (p50, p99) and
 * the CPU per request of `SharedRateLimiter.take` (one atomic script on a real local
 * redis-server) against the embedded `TenantRateLimiter.take`, measured in the same run and
 * printed as differences and ratios. CPU is this process's (the gateway's side: the client, the
 * pipeline, the promise) and, apart, redis-server's own (read from /proc).
 *
 *   npx tsx bench/shared-limit.ts            (writes bench/results/shared-limit.json)
 *   BENCH_CALLS=20000 npx tsx bench/shared-limit.ts
 *
 * Sequential calls give the latency one request sees; 16 calls in flight (as many concurrent
 * admissions) give the CPU per request under load. Needs redis-server (`apt-get install redis-server`).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemClock } from '../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../gateway/src/observability/logger.ts';
import { TenantRateLimiter, type RateLimiter } from '../gateway/src/request-path/admit/rate-limit.ts';
import { SharedState } from '../gateway/src/shared-state/redis-connection.ts';
import { SharedRateLimiter } from '../gateway/src/shared-state/shared-rate-limiter.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { REPO_ROOT } from './lib/proc.ts';
import { percentile } from './lib/stats.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const IN_FLIGHT = 16;
/** Never limited: the bench measures the cost of asking, not of refusing. */
const LIMIT = { rps: 1e9, burst: 1e9 };

/** CPU seconds a process has used so far (utime + stime from /proc, Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ, 100 on Linux)
}

interface Figures {
  p50_us: number;
  p99_us: number;
  cpu_us_per_request: number;
  redis_cpu_us_per_request?: number;
}

async function measure(limiter: RateLimiter, redisPid?: number): Promise<Figures> {
  const take = async (i: number) => {
    const r = limiter.take(`tenant-${i % 64}`, LIMIT);
    if (r) await r;
  };
  for (let i = 0; i < 500; i++) await take(i); // warm-up: JIT, the script cached in Redis
  const latencies: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await take(i);
    latencies.push((performance.now() - t0) * 1000);
  }
  latencies.sort((a, b) => a - b);
  const cpu0 = process.cpuUsage();
  const redis0 = redisPid === undefined ? 0 : processCpuSeconds(redisPid);
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CALLS) await take(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const figures: Figures = { p50_us: percentile(latencies, 50), p99_us: percentile(latencies, 99), cpu_us_per_request: (cpu.user + cpu.system) / CALLS };
  if (redisPid !== undefined) figures.redis_cpu_us_per_request = ((processCpuSeconds(redisPid) - redis0) * 1e6) / CALLS;
  return figures;
}

const round = (x: number) => Math.round(x * 10) / 10;

const redis = await startRedis();
const shared = new SharedState({ url: redis.url, log: createLogger({ level: 'silent' }), commandTimeoutMs: 1_000 });
try {
  if (!(await shared.ready())) throw new Error('redis did not answer');
  const embedded = await measure(new TenantRateLimiter(systemClock));
  const onRedis = await measure(new SharedRateLimiter(shared, systemClock), redis.pid);
  const result = {
    calls: CALLS,
    in_flight: IN_FLIGHT,
    embedded,
    shared: onRedis,
    added: {
      p50_us: round(onRedis.p50_us - embedded.p50_us),
      p99_us: round(onRedis.p99_us - embedded.p99_us),
      cpu_us_per_request: round(onRedis.cpu_us_per_request - embedded.cpu_us_per_request),
    },
    ratio: {
      p50: round(onRedis.p50_us / embedded.p50_us),
      cpu_per_request: round(onRedis.cpu_us_per_request / embedded.cpu_us_per_request),
    },
  };
  const out = path.join(REPO_ROOT, 'bench/results/shared-limit.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  const row = (name: string, f: Figures) =>
    `${name.padEnd(9)} p50 ${round(f.p50_us)} µs  p99 ${round(f.p99_us)} µs  CPU ${round(f.cpu_us_per_request)} µs/request${f.redis_cpu_us_per_request === undefined ? '' : ` (+ redis-server ${round(f.redis_cpu_us_per_request)} µs)`}`;
  process.stdout.write(
    `${row('embedded', embedded)}\n${row('shared', onRedis)}\n` +
      `added by the shared limit: p50 +${result.added.p50_us} µs (×${result.ratio.p50}), CPU +${result.added.cpu_us_per_request} µs/request in the gateway (×${result.ratio.cpu_per_request})\n` +
      `wrote ${path.relative(process.cwd(), out)}\n`,
  );
} finally {
  await shared.close();
  await redis.stop();
}
