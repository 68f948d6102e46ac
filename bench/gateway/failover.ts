/**
 * A region killed under paced load: the gateway (full configuration) fronts region A (home, two
 * nodes) and region B (two nodes); an open-loop client offers ~640 req/s of 64 KiB with
 * upstreams at 50 ± 30 ms; `killAtMs` after the load starts both of A's nodes are SIGKILLed.
 *
 * Reported: client-visible 5xx and transport errors over the whole run (goal: zero), and p99 in
 * three windows: steady state (the `steadyMs` before the kill, the baseline measured in the same
 * run), the switch (`switchMs` after the kill) and after. Goal: switch p99 ≤ 2 × steady p99.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_KEY } from './config.ts';
import { benchBodies } from './bodies.ts';
import { setKnobs, startBenchGateway, startUpstream, type Upstream } from './targets.ts';
import { spawnOpenLoop, type OpenLoopRecord } from '../lib/open-loop.ts';
import { REPO_ROOT, type Service } from '../lib/proc.ts';
import type { Progress } from '../lib/progress.ts';
import { percentile, round } from '../lib/stats.ts';

export interface WindowStats {
  from: number;
  to: number;
  requests: number;
  ok: number;
  p50: number;
  p99: number;
}

export interface FailoverResult {
  rate: number;
  durationMs: number;
  killAtMs: number;
  requests: number;
  ok: number;
  status5xx: number;
  transportErrors: number;
  other: Record<string, number>;
  servedByB: number;
  steady: WindowStats;
  switch: WindowStats;
  after: WindowStats;
  switchP99VsSteady: number;
  /**
   * The gateway was already overloaded before the kill (steady p50 over 4× the upstream's mean
   * delay): there is no steady state to compare the switch with, so the p99 ratio says nothing.
   */
  steadyOverloaded: boolean;
}

function windowStats(records: OpenLoopRecord[], from: number, to: number): WindowStats {
  const inside = records.filter((r) => r[0] >= from && r[0] < to && r[2] !== -1);
  const lat = inside.map((r) => r[1]);
  return { from, to, requests: inside.length, ok: inside.filter((r) => r[2] === 200).length, p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)) };
}

export interface FailoverOptions {
  dir: string;
  rate: number;
  durationMs: number;
  killAtMs: number;
  steadyMs: number;
  switchMs: number;
  progress: Progress;
}

export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const services: Service[] = [];
  try {
    o.progress.begin(`failover · starting region A (2 nodes), region B (2 nodes), gateway`);
    const ups: Upstream[] = [];
    for (const name of ['fo-a1', 'fo-a2', 'fo-b1', 'fo-b2']) {
      const u = await startUpstream(o.dir, name);
      services.push(u.service);
      ups.push(u);
    }
    await setKnobs(
      ups.map((u) => u.url),
      { size: 65_536, delayMs: 50, jitterMs: 30, chunks: 1, failRate: 0 },
    );
    const gw = await startBenchGateway({
      dir: o.dir,
      name: 'gateway-failover',
      topology: {
        regions: [
          { name: 'A', urls: [ups[0]!.url, ups[1]!.url] },
          { name: 'B', urls: [ups[2]!.url, ups[3]!.url] },
        ],
      },
    });
    services.push(gw.service);
    o.progress.end('ready');
    o.progress.begin(`failover · ${o.rate} req/s open-loop for ${o.durationMs / 1000}s; region A killed at ${o.killAtMs / 1000}s`);
    let killedAt = Number.NaN;
    const bodies = benchBodies();
    // Warm the gateway's JIT and pools, and region B's nodes, before the measured run: in service
    // a standby region answers its own clients, so its nodes and the gateway's connections to
    // them are warm. Cold, B's first second after the kill measured JIT warm-up, not failover.
    const warmClasses = [
      { label: 'home', key: BENCH_KEY, weight: 1 },
      { label: 'region-b', key: BENCH_KEY, weight: 1, headers: { 'x-region': 'B' } },
    ];
    await spawnOpenLoop({ url: gw.url, rate: o.rate, durationMs: 2_000, bodies, classes: warmClasses, graceMs: 3_000 }, REPO_ROOT);
    const out = await spawnOpenLoop(
      {
        url: gw.url,
        rate: o.rate,
        durationMs: o.durationMs,
        bodies,
        classes: [{ label: 'pro', key: BENCH_KEY, weight: 1 }],
        timeoutMs: 15_000,
        graceMs: 15_000,
      },
      REPO_ROOT,
      (t0) => {
        void (async () => {
          await sleep(Math.max(0, t0 + o.killAtMs - Date.now()));
          killedAt = Date.now() - t0;
          await Promise.all([ups[0]!.service.kill(), ups[1]!.service.kill()]);
        })();
      },
    );
    const recs = out.records;
    const sent = recs.filter((r) => r[2] !== -1);
    const other: Record<string, number> = {};
    for (const r of sent) if (r[2] !== 200 && r[2] < 500 && r[2] !== 0) other[String(r[2])] = (other[String(r[2])] ?? 0) + 1;
    const kill = Number.isFinite(killedAt) ? killedAt : o.killAtMs;
    const steady = windowStats(recs, kill - o.steadyMs, kill);
    const sw = windowStats(recs, kill, kill + o.switchMs);
    const after = windowStats(recs, kill + o.switchMs, o.durationMs);
    const stats = await fetch(`${ups[2]!.url}/__bench/stats`).then((r) => r.json() as Promise<{ completed: number }>);
    const stats2 = await fetch(`${ups[3]!.url}/__bench/stats`).then((r) => r.json() as Promise<{ completed: number }>);
    const res: FailoverResult = {
      rate: o.rate,
      durationMs: o.durationMs,
      killAtMs: round(kill),
      requests: sent.length,
      ok: sent.filter((r) => r[2] === 200).length,
      status5xx: sent.filter((r) => r[2] >= 500).length,
      transportErrors: sent.filter((r) => r[2] === 0).length,
      other,
      servedByB: stats.completed + stats2.completed,
      steady,
      switch: sw,
      after,
      switchP99VsSteady: round(sw.p99 / steady.p99),
      steadyOverloaded: steady.p50 > 4 * 50,
    };
    o.progress.end(
      `${res.ok}/${res.requests} ok, ${res.status5xx} 5xx, ${res.transportErrors} transport errors; p99 steady ${steady.p99} ms, switch ${sw.p99} ms (${res.switchP99VsSteady}×), after ${after.p99} ms`,
    );
    return res;
  } finally {
    await Promise.all(services.map((s) => s.stop(2_000)));
  }
}
