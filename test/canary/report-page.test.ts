/**
 * What the canary page and terminal say beside one another: axes that start where the data can,
 * and pair counts that name what each counts.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../gateway/src/canary/report/build-report.ts';
import { renderPage } from '../../gateway/src/canary/report/page.ts';
import { boxChart } from '../../gateway/src/canary/report/svg.ts';
import { renderTerminal } from '../../gateway/src/canary/report/terminal.ts';
import { summarise } from '../../gateway/src/canary/stats/summary.ts';
import type { PairRecord } from '../../gateway/src/canary/store/pair-record.ts';
import { ThresholdsSchema } from '../../gateway/src/config/canary.ts';

/** The numbers printed as the axis' two ends. */
function axisEnds(svg: string): number[] {
  return [...svg.matchAll(/<text x="[\d.]+" y="\d+" font-size="9"(?: text-anchor="end")?>([^<]+)<\/text>/g)].map((m) => Number(m[1]));
}

describe('canary page', () => {
  it('a box plot of values that cannot be negative never shows a negative axis minimum', () => {
    const latency = boxChart('latency', summarise([20, 40, 900, 2_000, 2_100]), summarise([30, 35, 1_500, 2_500]), 'ms');
    const ends = axisEnds(latency);
    expect(ends).toHaveLength(2);
    expect(ends[0]).toBeGreaterThanOrEqual(0);
    expect(ends[1]).toBeGreaterThan(2_400);
    const flat = boxChart('duration', summarise([0, 0]), summarise([0]), 's');
    expect(axisEnds(flat)[0]).toBe(0);
    // Loudness is negative by nature: its axis keeps its margin below the data.
    const loud = boxChart('loudness', summarise([-30, -20]), summarise([-25, -18]), 'dBFS');
    expect(axisEnds(loud)[0]).toBeLessThan(-30);
  });

  it('says which pairs each count is: compared since start, the window by served model, the verdict against the baseline', () => {
    const pair = (i: number, servedModel: string, outcome: PairRecord['outcome']): PairRecord => ({
      canary: 'c1',
      at: 1_000 + i,
      traceId: `t${i}`,
      textLength: 20,
      servedModel,
      configuredBaseline: servedModel === 'flite-hd',
      outcome,
      baselineLatencyMs: 100,
      ...(outcome === 'ok' ? { canaryLatencyMs: 120 } : {}),
    });
    const pairs = [pair(1, 'flite-hd', 'ok'), pair(2, 'flite-hd', 'error'), pair(3, 'flite-fast', 'ok'), pair(4, 'flite-fast', 'ok')];
    const report = buildReport({
      config: { canary: 'c1', baseline: 'flite-hd', sample_rate: 0.05 },
      thresholds: ThresholdsSchema.parse({}),
      pairs,
      counters: { compared: 3, mirrored: 4, errors: 1 },
      history: [],
      asr: { available: false, reason: 'not installed' },
    });
    const page = renderPage({ generated_at: new Date(0).toISOString(), asr: { available: false }, canaries: [report] });
    expect(page).toContain('vs flite-hd (configured baseline)');
    expect(page).toContain('<th>compared (audio judged, since start)</th><td>3</td>');
    expect(page).toContain('<th>pairs in the window, by the model that served the client</th><td>4 (flite-fast 2, flite-hd 2)</td>');
    expect(page).toContain('<th>pairs the verdict counts</th><td>2 of 30 needed: those served by flite-hd, the configured baseline</td>');
    expect(report.reasons[0]).toBe('sample too small: 2 of 30 pairs against the configured baseline');
    const text = renderTerminal({ generated_at: new Date(0).toISOString(), asr: { available: false }, canaries: [report] }, false);
    expect(text).toContain('pairs the verdict counts: 2 of 30 needed: those served by flite-hd');
    expect(text).not.toContain('judged against');
  });
});
