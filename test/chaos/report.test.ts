/**
 * The report's arithmetic and chart, on a hand-made scenario result.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from './load/load-spec.ts';
import { chartSvg, timeline } from './report/chart-svg.ts';
import { summarize } from './report/summarize.ts';
import { summaryTable, updateReadme } from './report/write-report.ts';
import type { ScenarioResult } from './scenarios/scenario.ts';

const rec = (t: number, ms: number, outcome: RequestRecord['outcome'], status: number): RequestRecord => ({ t, ms, outcome, status, bytes: 0 });

const result: ScenarioResult = {
  id: '0',
  title: 'Example',
  claim: 'none',
  epochMs: 0,
  records: [
    rec(0, 100, 'ok', 200),
    rec(500, 200, 'ok', 200),
    rec(1_200, 300, '503', 503),
    rec(2_100, 50, '5xx', 502),
    rec(2_500, 400, 'ok', 200),
    rec(3_000, 0, 'client_saturated', 0),
  ],
  faults: [{ label: 'kill', startS: 2 }],
  samples: [100, 101, 102, 108, 110, 112].map((mb, t) => ({ t, rss: { 'gateway:north': mb * 2 ** 20, 'node:n1': 50 * 2 ** 20 } })),
  checks: [{ name: 'x', pass: true, detail: '' }],
  figures: {},
};

describe('summarize', () => {
  it('counts outcomes, 5xx other than 503, ok percentiles, recovery and growth', () => {
    const s = summarize(result);
    expect(s.sent).toBe(5);
    expect(s.outcomes).toEqual({ ok: 3, '503': 1, '5xx': 1, client_saturated: 1 });
    expect(s.fiveXx).toBe(1);
    expect(s.failures).toBe(1);
    expect([s.p50Ms, s.p99Ms]).toEqual([200, 400]);
    expect(s.recoveryMs).toBe(150); // the 502 ended 2.15 s in; the fault began at 2 s
    expect(s.gatewayGrowthMb).toBe(9); // median of the last three minus median of the first three
    expect(s.nodeGrowthMb).toBe(0);
    expect(summaryTable([s])).toContain('| 0 | Example | 5 |');
  });
});

describe('chart', () => {
  it('buckets by completion second and draws one bar per class present, with the fault marked', () => {
    const { seconds, buckets } = timeline(result);
    expect(seconds).toBe(3);
    expect(buckets[0]).toMatchObject({ ok: 2 });
    expect(buckets[1]).toMatchObject({ '503': 1 });
    const svg = chartSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('kill');
    expect(svg.match(/<title>/g)?.length).toBe(5);
  });
});

describe('updateReadme', () => {
  it("writes the table between the markers verbatim, `$'` and `$&` in a title included", () => {
    const readme = path.join(mkdtempSync(path.join(tmpdir(), 'chaos-readme-')), 'README.md');
    writeFileSync(readme, 'before\n<!-- chaos:start -->\nold\n<!-- chaos:end -->\nafter\n');
    const summary = { ...summarize(result), title: "costs $' and $& and $1" };
    expect(updateReadme([summary], '2026-12-03T00:00:00Z', readme)).toBe(true);
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain("| costs $' and $& and $1 |");
    expect(text).toContain('[reports/chaos/latest.md](reports/chaos/latest.md)');
    expect(text.startsWith('before\n<!-- chaos:start -->\nReliability proving ground')).toBe(true);
    expect(text.endsWith('<!-- chaos:end -->\nafter\n')).toBe(true);
    expect(text).not.toContain('old');
  });
});
