/**
 * Keeps `npm run bench` from rotting silently: runs the benchmark harness for one short
 * saturation scenario (direct, raw proxy and the real gateway; 1 s of load each) and checks the
 * shape of what the report is built from, and that the baseline and the target both completed
 * requests. Not a performance assertion: numbers on a shared CI box mean nothing here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateGoals } from '../../bench/gateway/goals.ts';
import { runOverhead, type Scenario } from '../../bench/gateway/overhead.ts';
import { chartSvg, markdownReport } from '../../bench/gateway/report.ts';
import { startTargets, type TargetSet } from '../../bench/gateway/targets.ts';
import { stopAll } from '../../bench/lib/proc.ts';
import { Progress } from '../../bench/lib/progress.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgate-bench-smoke-'));
let set: TargetSet | undefined;

afterAll(async () => {
  await set?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('bench harness smoke', () => {
  it('runs one scenario against direct, raw and the gateway and reports ratios', async () => {
    // The sources, not a dist/ build that may be stale or missing (CI does not build).
    set = await startTargets({ dir, names: ['direct', 'raw', 'gateway'], gatewayMain: 'gateway/src/main.ts' });
    const scenario: Scenario = {
      id: 'sat-c32',
      title: 'smoke c=8',
      connections: 8,
      knobs: { size: 65_536, delayMs: 0, jitterMs: 0 },
      targets: ['direct', 'raw', 'gateway'],
    };
    const out = await runOverhead({ dir, durationS: 1, warmupS: 0, reps: 1, scenarios: [scenario], progress: new Progress(3, true) }, set);

    expect(out.rows).toHaveLength(3);
    const s = out.scenarios[0]!;
    expect(s.targets.map((t) => t.target)).toEqual(['direct', 'raw', 'gateway']);
    for (const t of s.targets) {
      expect(t.rps).toBeGreaterThan(0);
      expect(t.errors + t.non2xx).toBe(0);
      expect(Number.isFinite(t.p50)).toBe(true);
      expect(t.cpuMsPerReq).toBeGreaterThan(0);
      expect(t.peakRssMb).toBeGreaterThan(0);
    }
    const gw = s.targets.find((t) => t.target === 'gateway')!;
    expect(gw.rpsVsRaw).toBeGreaterThan(0);
    expect(gw.cpuVsRaw).toBeGreaterThan(0);
    expect(typeof gw.addedP50).toBe('number');

    const results = { overhead: out.scenarios };
    const goals = evaluateGoals(results);
    // Judged against 0.9, unless the gateway beat raw by over 10 % (a disturbed baseline).
    expect(goals.find((g) => g.metric.startsWith('saturation c=32'))?.met).toBe(gw.rpsVsRaw! > 1.1 ? undefined : gw.rpsVsRaw! >= 0.9);
    const json = JSON.parse(JSON.stringify({ goals, results, runs: out.rows })) as { runs: { load: { requests: number } }[] };
    expect(json.runs.every((r) => r.load.requests > 0)).toBe(true);
    const md = markdownReport(
      {
        startedAt: 'now',
        wallS: 1,
        machine: 'test',
        loadAvgStart: '0',
        loadAvgEnd: '0',
        node: process.version,
        tool: 'test',
        durationS: 1,
        warmupS: 1,
        reps: 1,
        notes: [],
      },
      results,
      goals,
    );
    expect(md).toContain('| gateway |');
    expect(chartSvg(results)).toContain('<svg');
  }, 60_000);
});
