/**
 * The canary service with a stand-in judge (the real one is covered in judge.test.ts): what it
 * counts for errors, timeouts, a full or failing judge, which pairs drive the verdict, and the
 * bounded window.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CanaryService, type Judge } from '../../gateway/src/canary/canary-service.ts';
import { CanaryJudgeSchema, CanarySchema } from '../../gateway/src/config/canary.ts';
import { JudgeQueueFull } from '../../gateway/src/canary/judge/judge-pool.ts';
import type { JudgeTask, PairMetrics } from '../../gateway/src/canary/judge/pair-metrics.ts';
import { systemClock } from '../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../gateway/src/observability/logger.ts';
import type { CanaryAnswer, MirrorOutcome } from '../../gateway/src/canary/mirror/mirror.ts';
import { GOOD, makePairs } from './support/pairs.ts';

const dirs: string[] = [];
const services: CanaryService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const metrics = makePairs(1, GOOD)[0]!.metrics!;
const cfg = CanarySchema.parse({ canary: 'c', baseline: 'flite', thresholds: { min_pairs: 6 } });

function service(judge: (t: JudgeTask) => Promise<PairMetrics>, window = 50): CanaryService {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-svc-'));
  dirs.push(dir);
  const impl: Judge = { run: judge, close: async () => {} };
  const s = new CanaryService({
    canaries: () => [cfg],
    judge: () => CanaryJudgeSchema.parse({ store: path.join(dir, 'c.sqlite'), asr: 'off', window }),
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    judgeImpl: impl,
  });
  services.push(s);
  return s;
}

const outcome = (answer: CanaryAnswer, servedModel = 'flite'): MirrorOutcome => ({
  canary: cfg,
  traceId: 't',
  text: 'hello there',
  servedModel,
  baseline: { bytes: new Uint8Array(10), latencyMs: 100 },
  answer,
  ticket: { settle: () => {} },
});
const ok: CanaryAnswer = { ok: true, bytes: new Uint8Array(10), latencyMs: 120, node: 'n', version: '2.0.0' };

describe('canary service', () => {
  it('counts errors by code and timeouts, and a full or failing judge', async () => {
    let calls = 0;
    const s = service(async () => {
      calls++;
      if (calls === 1) throw new JudgeQueueFull('full');
      if (calls === 2) throw new Error('bad audio');
      return metrics;
    });
    s.submit(outcome({ ok: false, code: 'queue_full', timeout: false, latencyMs: 3, node: 'n' }));
    s.submit(outcome({ ok: false, code: 'canary_timeout', timeout: true, latencyMs: 10_000, node: 'n' }));
    s.submit(outcome(ok));
    s.submit(outcome(ok));
    s.submit(outcome(ok));
    await s.settle();
    const r = s.report().canaries[0]!;
    expect(r.errors).toMatchObject({ count: 2, timeouts: 1, by_code: { queue_full: 1, canary_timeout: 1 }, judge_failed: 1 });
    expect(r.dropped.judge_backlog).toBe(1);
    expect(r.compared).toBe(1);
    expect(r.window.pairs).toBe(3);
  });

  it('judges pairs served by another model but keeps them out of the verdict', async () => {
    const s = service(async () => metrics);
    for (let i = 0; i < 8; i++) s.submit(outcome(ok, i < 6 ? 'flite-fast' : 'flite'));
    await s.settle();
    const r = s.report().canaries[0]!;
    expect(r.judged_against).toEqual({ 'flite-fast': 6, flite: 2 });
    expect(r.window).toMatchObject({ pairs: 8, verdict_pairs: 2 });
    expect(r.verdict).toBe('hold');
    expect(r.reasons[0]).toMatch(/sample too small: 2 of 6/);
  });

  it('keeps a bounded window and records the verdict over time', async () => {
    const s = service(async () => metrics, 10);
    for (let i = 0; i < 25; i++) s.submit(outcome(ok));
    await s.settle();
    const r = s.report().canaries[0]!;
    expect(r.compared).toBe(25);
    expect(r.window.pairs).toBe(10);
    expect(r.history.length).toBeGreaterThanOrEqual(2);
    expect(r.history[0]!.verdict).toBe('hold');
    expect(r.history.at(-1)!.verdict).toBe(r.verdict);
  });

  it('records mirrors beyond the judge budget for errors and latency, and keeps the judged pairs in the window', async () => {
    let judged = 0;
    const s = service(async () => {
      judged++;
      return metrics;
    }, 10);
    const unjudged = (latencyMs: number): MirrorOutcome => {
      const { ticket: _, ...rest } = outcome({ ok: true, latencyMs, node: 'n' });
      return { ...rest, baseline: { latencyMs: 100 } };
    };
    for (let i = 0; i < 4; i++) s.submit(outcome(ok));
    for (let i = 0; i < 40; i++) s.submit(unjudged(130));
    s.submit(outcome({ ok: false, code: 'queue_full', timeout: false, latencyMs: 3, node: 'n' }));
    await s.settle();
    expect(judged).toBe(4);
    const r = s.report().canaries[0]!;
    expect(r).toMatchObject({ compared: 4, unjudged: 40 });
    // 10 others (the newest unjudged and the error) beside all 4 judged pairs.
    expect(r.window.pairs).toBe(14);
    expect(r.audio.spectral_distance.n).toBe(4);
    expect(r.latency_ms.canary.n).toBe(13);
    // The error rate is over every answered mirror, judged or not.
    expect(r.errors.rate).toBeCloseTo(1 / 45, 4);
  });
});
