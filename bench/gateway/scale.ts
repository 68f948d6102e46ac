/**
 * Scale: routing decision time and health-check CPU at 10, 100 and 1,000 simulated nodes across
 * 10 regions (bench/gateway/scale-worker.ts does the measuring in its own process; the 1,000
 * health-checked nodes are 1,000 listeners of one fake-upstream process). Each figure is also
 * given as a ratio to the smallest topology measured in the same run: a flat curve is 1.0.
 * @module
 */
import { spawn } from 'node:child_process';
import { startUpstream } from './targets.ts';
import { REPO_ROOT, type Service } from '../lib/proc.ts';
import type { Progress } from '../lib/progress.ts';
import { round } from '../lib/stats.ts';

export interface RoutingPoint {
  nodes: number;
  regions: number;
  decisions: number;
  planUs: number;
  balanceUs: number;
  totalUs: number;
  vsSmallest?: number;
}

export interface HealthPoint {
  nodes: number;
  healthy: number;
  sweeps: number;
  firstSweepCpuMs: number;
  firstSweepWallMs: number;
  cpuMsPerSweep: number;
  cpuUsPerNodeProbe: number;
  wallMsPerSweep: number;
  coreShareAtInterval: number;
  intervalMs: number;
  perNodeVsSmallest?: number;
}

export interface ScaleResult {
  routing: RoutingPoint[];
  health: HealthPoint[];
}

function runWorker<T>(arg: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/gateway/scale-worker.ts', JSON.stringify(arg)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('SCALEJSON '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(10)) as T);
      else reject(new Error(`scale worker exited ${code}: ${err.slice(-800)}`));
    });
  });
}

export async function runScale(o: { dir: string; sizes: number[]; budgetMs: number; sweeps: number; progress: Progress }): Promise<ScaleResult> {
  o.progress.begin(`scale · routing decision (plan + balance) at ${o.sizes.join(', ')} nodes across 10 regions`);
  const routing = await runWorker<RoutingPoint[]>({ mode: 'routing', sizes: o.sizes, budgetMs: o.budgetMs }, 120_000);
  const r0 = routing[0]!;
  for (const r of routing) {
    r.planUs = round(r.planUs);
    r.balanceUs = round(r.balanceUs);
    r.totalUs = round(r.totalUs);
    r.vsSmallest = round(r.totalUs / r0.totalUs);
  }
  o.progress.end(routing.map((r) => `${r.nodes}: ${r.totalUs} µs`).join(', '));

  const max = Math.max(...o.sizes);
  let upstream: Service | undefined;
  try {
    o.progress.begin(`scale · health-check CPU per sweep at ${o.sizes.join(', ')} nodes (fake upstream with ${max} listeners)`);
    const up = await startUpstream(o.dir, 'scale-upstreams', { ports: max, slots: 4 });
    upstream = up.service;
    const health = await runWorker<HealthPoint[]>({ mode: 'health', urls: o.sizes.map((n) => up.urls.slice(0, n)), sweeps: o.sweeps }, 180_000);
    const h0 = health[0]!;
    for (const h of health) {
      h.cpuMsPerSweep = round(h.cpuMsPerSweep);
      h.cpuUsPerNodeProbe = round(h.cpuUsPerNodeProbe);
      h.wallMsPerSweep = round(h.wallMsPerSweep);
      h.firstSweepCpuMs = round(h.firstSweepCpuMs);
      h.firstSweepWallMs = round(h.firstSweepWallMs);
      h.coreShareAtInterval = round(h.coreShareAtInterval);
      h.perNodeVsSmallest = round(h.cpuUsPerNodeProbe / h0.cpuUsPerNodeProbe);
    }
    o.progress.end(health.map((h) => `${h.nodes}: ${h.cpuMsPerSweep} ms/sweep (${h.cpuUsPerNodeProbe} µs/node)`).join(', '));
    return { routing, health };
  } finally {
    await upstream?.stop(2_000);
  }
}
