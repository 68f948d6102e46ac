/**
 * The canary service: receives the mirror's counts and finished mirrors (it is the mirror's
 * `ShadowSink`), has the judge score each pair it reserved budget for in a worker thread (the
 * rest are compared on errors and latency only), keeps every result in the store, and answers
 * the report. Each canary's recent pairs are also kept in memory (store/pair-window.ts, bounded
 * by `canary_judge.window`) so a report never scans the database.
 *
 * Owns the judge pool and the store; `close()` waits for pairs being judged, then closes both.
 * The store opens on first use, so a gateway without canaries never creates a file.
 * @module
 */
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { JudgeTicket, MirrorOutcome, ShadowCounter, ShadowSink } from './mirror/mirror.ts';
import { sampled } from './mirror/sampler.ts';
import { detectPocketsphinx } from './asr/pocketsphinx.ts';
import type { CanaryMetrics } from './canary-metrics.ts';
import { thresholdsFor, type CanaryConfig, type CanaryJudgeConfig } from '../config/canary.ts';
import { JudgeBudget, judgeShare } from './judge/judge-budget.ts';
import { ServingLoad } from './judge/serving-load.ts';
import { JUDGE_BACKLOG, JudgePool } from './judge/judge-pool.ts';
import type { JudgeTask, PairMetrics } from './judge/pair-metrics.ts';
import { buildReport } from './report/build-report.ts';
import type { Report } from './report/report-types.ts';
import { CanaryStore } from './store/canary-store.ts';
import type { PairRecord } from './store/pair-record.ts';
import { PairWindow } from './store/pair-window.ts';
import type { SharedCanaryStore, SharedCanaryView } from './store/shared-canary-store.ts';
import { decide, type Verdict } from './verdict/verdict.ts';

export interface Judge {
  run(task: JudgeTask): Promise<PairMetrics>;
  close(): Promise<void>;
}

export interface CanaryServiceOptions {
  canaries: () => readonly CanaryConfig[];
  judge: () => CanaryJudgeConfig;
  clock: Clock;
  log: Logger;
  metrics?: CanaryMetrics;
  /** Replaces the worker pool (tests). */
  judgeImpl?: Judge;
  /** Replicas share pairs, counters and verdicts here (Redis) instead of the SQLite file. */
  shared?: SharedCanaryStore;
}

const FLUSH_MS = 1_000;
/** A verdict point is recorded when the verdict changes, or at most this often otherwise. */
const HISTORY_EVERY_MS = 5_000;
/** The verdict is re-run for every judged pair, and otherwise at most this often: pairs compared
 * on errors and latency only arrive at the shadow rate, and each run tests the whole window. */
const VERDICT_EVERY_MS = 1_000;
/** How long one replica keeps the right to write a canary's shared verdict history. */
const HISTORY_LEASE_MS = 3 * FLUSH_MS;
const EMPTY_VIEW: SharedCanaryView = { pairs: [], counters: {}, history: [] };

export class CanaryService implements ShadowSink {
  private store: CanaryStore | undefined;
  private judge: Judge | undefined;
  private readonly windows = new Map<string, PairWindow>();
  private readonly lastPoint = new Map<string, { at: number; verdict: Verdict }>();
  /** Per canary: when its verdict last ran, and whether pairs came in since. */
  private readonly lastVerdict = new Map<string, { at: number; stale: boolean }>();
  /** Per canary: pairs not judged since the store was last pruned of them. */
  private readonly unprunedUnjudged = new Map<string, number>();
  private readonly judging = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private closed = false;
  private readonly budget: JudgeBudget;
  /** Counts not yet drained, by canary and event. */
  private readonly tally = new Map<string, Map<string, number>>();
  private looping = false;
  /** Shared mode: pairs and counter increments not yet pushed, and each canary as last synced. */
  private readonly outbox: PairRecord[] = [];
  private readonly outCounts = new Map<string, Map<string, number>>();
  private readonly views = new Map<string, SharedCanaryView>();
  readonly asr: { available: boolean; reason?: string };

  /**
   * @example
   * const canary = new CanaryService({ canaries: () => config.canaries, judge: () => config.canary_judge, clock, log });
   * const mirror = createMirror({ ..., sink: canary });
   */
  constructor(private readonly o: CanaryServiceOptions) {
    const asr = o.judge().asr === 'off' ? { available: false as const, reason: 'disabled by canary_judge.asr: off' } : detectPocketsphinx();
    this.asr = asr.available ? { available: true } : { available: false, reason: asr.reason };
    const serving = new ServingLoad(() => o.clock.now());
    // Saving up while idle only one pair per canary: a bigger burst would spend a share that serving never paid for.
    this.budget = new JudgeBudget({ share: () => judgeShare(o.judge(), serving.cores()), now: () => o.clock.now(), burstPairs: () => o.canaries().length });
    o.metrics?.beforeScrape(() => this.drain());
    // Shared mode syncs from the start, so a restarted replica serves the shared report at once.
    if (o.shared) this.startLoop();
  }

  private startLoop(): void {
    if (this.looping || this.closed) return;
    this.looping = true;
    void this.flushLoop();
  }

  private open(): CanaryStore {
    if (this.closed) throw new Error('canary service closed');
    if (!this.store) {
      this.store = new CanaryStore(this.o.judge().store);
      this.startLoop();
    }
    return this.store;
  }

  private judgeImpl(): Judge {
    const cfg = this.o.judge();
    this.judge ??= this.o.judgeImpl ?? new JudgePool({ threads: cfg.threads, queue: cfg.queue, asr: cfg.asr });
    return this.judge;
  }

  private async flushLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      try {
        await this.o.clock.sleep(FLUSH_MS, this.stop.signal);
      } catch {
        return;
      }
      if (this.o.shared) {
        this.drain();
        await this.syncShared();
        continue;
      }
      try {
        this.drain();
        this.store?.flush();
        for (const [canary, v] of this.lastVerdict) if (v.stale) this.evaluate(canary);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'canary store flush failed');
      }
    }
  }

  /**
   * Counts run on every request (`eligible`), so they are plain numbers here, moved into the
   * store and the Prometheus counter by `drain()`: once a second, before a report, before a
   * scrape. Nested maps, not a joined key: building that string cost more than the rest.
   */
  count(canary: string, name: ShadowCounter | string, by = 1): void {
    if (this.closed) return;
    let byName = this.tally.get(canary);
    if (!byName) this.tally.set(canary, (byName = new Map()));
    byName.set(name, (byName.get(name) ?? 0) + by);
  }

  private drain(): void {
    if (this.closed || this.tally.size === 0) return;
    const store = this.o.shared ? undefined : this.open();
    for (const [canary, byName] of this.tally)
      for (const [event, n] of byName) {
        if (store) store.count(canary, event, n);
        else addCount(this.outCounts, canary, event, n);
        this.o.metrics?.shadow.inc({ canary, event }, n);
      }
    this.tally.clear();
  }

  /**
   * Shared mode, once a second: pushes this replica's new pairs and counts, reads back every
   * canary's shared window, counters and history, and judges the shared window. Redis out: the
   * pushes wait for the next sync (bounded) and the report keeps the last view.
   */
  private async syncShared(): Promise<void> {
    const shared = this.o.shared!;
    const canaries = this.o.canaries().map((c) => c.canary);
    if (canaries.length === 0 && this.outbox.length === 0 && this.outCounts.size === 0) return;
    const pairs = this.outbox.splice(0);
    const counts = new Map(this.outCounts);
    this.outCounts.clear();
    let views: Map<string, SharedCanaryView>;
    try {
      views = await shared.sync({ pairs, counts }, canaries, this.o.judge().window);
    } catch (err) {
      shared.failed('canary_sync', err);
      this.outbox.unshift(...pairs);
      // What a long outage leaves behind beyond two windows would be trimmed by Redis anyway.
      const keep = 2 * this.o.judge().window * Math.max(1, canaries.length);
      if (this.outbox.length > keep) this.outbox.splice(0, this.outbox.length - keep);
      for (const [canary, byName] of counts) for (const [name, n] of byName) addCount(this.outCounts, canary, name, n);
      return;
    }
    for (const [canary, view] of views) this.views.set(canary, view);
    for (const canary of canaries) await this.evaluateShared(canary);
  }

  /** The verdict over the shared window: the gauge here, a history point by whoever holds the lease. */
  private async evaluateShared(canary: string): Promise<void> {
    const cfg = this.o.canaries().find((c) => c.canary === canary);
    if (!cfg) return;
    const pairs = (this.views.get(canary) ?? EMPTY_VIEW).pairs.filter((x) => x.configuredBaseline);
    const { verdict, reasons } = decide(pairs, thresholdsFor(this.o.judge(), cfg), this.asr);
    this.o.metrics?.verdict.set({ canary }, verdict === 'promote' ? 1 : verdict === 'rollback' ? -1 : 0);
    try {
      await this.o.shared!.addVerdict(canary, { at: this.o.clock.now(), verdict, compared: pairs.length, reasons }, HISTORY_EVERY_MS, HISTORY_LEASE_MS);
    } catch (err) {
      this.o.shared!.failed('canary_verdict', err);
    }
  }

  canJudge(_canary: string): boolean {
    return !this.closed && this.budget.affords();
  }

  admit(_canary: string): JudgeTicket | undefined {
    if (this.closed) return undefined;
    const reserved = this.budget.tryReserve();
    if (reserved === undefined) return undefined;
    let settled = false;
    return {
      settle: (spentMs) => {
        if (settled) return;
        settled = true;
        this.budget.settle(reserved, spentMs);
      },
    };
  }

  submit(outcome: MirrorOutcome): void {
    if (this.closed) return outcome.ticket?.settle(0);
    const p = this.finish(outcome)
      .then((judgeMs) => outcome.ticket?.settle(judgeMs))
      .catch((err: unknown) => this.o.log.error({ canary: outcome.canary.canary, err: (err as Error)?.message }, 'canary pair not recorded'))
      .finally(() => {
        outcome.ticket?.settle(0);
        this.judging.delete(p);
      });
    this.judging.add(p);
  }

  /** Judges and records one pair; resolves with the judge's time spent on it (ms). */
  private async finish(o: MirrorOutcome): Promise<number> {
    const name = o.canary.canary;
    const base = {
      canary: name,
      traceId: o.traceId,
      textLength: o.text.length,
      servedModel: o.servedModel,
      configuredBaseline: o.servedModel === o.canary.baseline,
      baselineLatencyMs: round(o.baseline.latencyMs),
      canaryLatencyMs: round(o.answer.latencyMs),
    };
    if (!o.answer.ok) {
      this.count(name, 'errors');
      this.count(name, `error:${o.answer.code}`);
      if (o.answer.timeout) this.count(name, 'timeouts');
      this.record({ ...base, at: this.o.clock.now(), outcome: o.answer.timeout ? 'timeout' : 'error', errorCode: o.answer.code });
      return 0;
    }
    const version = o.answer.version ? { canaryVersion: o.answer.version } : {};
    const baselineBytes = o.baseline.bytes;
    const canaryBytes = o.answer.bytes;
    if (!o.ticket || !baselineBytes || !canaryBytes) {
      // Mirrored beyond the judge's budget: it counts for errors and latency.
      this.count(name, 'unjudged');
      this.record({ ...base, at: this.o.clock.now(), outcome: 'ok', ...version });
      return 0;
    }
    const cfg = this.o.judge();
    let metrics: PairMetrics;
    try {
      metrics = await this.judgeImpl().run({
        text: o.text,
        baseline: { ...o.baseline, bytes: baselineBytes },
        canary: { bytes: canaryBytes, latencyMs: o.answer.latencyMs, ...(o.answer.sampleRate ? { sampleRate: o.answer.sampleRate } : {}) },
        // Its own salted draw, so the ASR subsample is independent of the shadow sample.
        asr: this.asr.available && sampled(o.text, cfg.asr_sample_rate, 'asr'),
      });
    } catch (err) {
      if ((err as { code?: string }).code === JUDGE_BACKLOG) this.count(name, 'dropped_judge_backlog');
      else {
        this.count(name, 'judge_failed');
        this.o.log.warn({ canary: name, trace_id: o.traceId, err: (err as Error)?.message }, 'canary judge failed');
      }
      return 0;
    }
    this.o.metrics?.judgeSeconds.observe({ canary: name }, metrics.judgeMs / 1000);
    this.count(name, 'compared');
    this.record({ ...base, at: this.o.clock.now(), outcome: 'ok', metrics, ...version });
    return metrics.judgeMs;
  }

  private window(canary: string): PairWindow {
    let w = this.windows.get(canary);
    if (!w) {
      const max = () => this.o.judge().window;
      w = new PairWindow(max, this.open().recentWindow(canary, max()));
      this.windows.set(canary, w);
    }
    return w;
  }

  private record(p: PairRecord): void {
    if (this.closed) return;
    // Shared mode: the next sync pushes it, and the verdict runs on the shared window there.
    if (this.o.shared) return void this.outbox.push(p);
    // The window first: loading it after the insert would read this pair from the store too.
    const w = this.window(p.canary);
    this.open().addPair(p);
    w.push(p);
    if (p.metrics === undefined) this.pruneLater(p.canary);
    const last = this.lastVerdict.get(p.canary);
    if (p.metrics !== undefined || !last || this.o.clock.now() - last.at >= VERDICT_EVERY_MS) this.evaluate(p.canary);
    else last.stale = true;
  }

  /** Prunes the store of pairs nobody judged once half a window of them has come in. */
  private pruneLater(canary: string): void {
    const n = (this.unprunedUnjudged.get(canary) ?? 0) + 1;
    const keep = this.o.judge().window;
    if (n < keep / 2) return void this.unprunedUnjudged.set(canary, n);
    this.unprunedUnjudged.set(canary, 0);
    this.open().pruneUnjudged(canary, keep);
  }

  /** Runs the verdict over the window: sets the gauge, and records a point in the history. */
  private evaluate(canary: string): void {
    const now = this.o.clock.now();
    this.lastVerdict.set(canary, { at: now, stale: false });
    const cfg = this.o.canaries().find((c) => c.canary === canary);
    if (!cfg) return;
    // The verdict over time: a point whenever it changes, else at most every few seconds.
    const pairs = this.window(canary)
      .pairs()
      .filter((x) => x.configuredBaseline);
    const { verdict, reasons } = decide(pairs, thresholdsFor(this.o.judge(), cfg), this.asr);
    this.o.metrics?.verdict.set({ canary }, verdict === 'promote' ? 1 : verdict === 'rollback' ? -1 : 0);
    const last = this.lastPoint.get(canary);
    if (!last || last.verdict !== verdict || now - last.at >= HISTORY_EVERY_MS) {
      this.open().addVerdict(canary, { at: now, verdict, compared: pairs.length, reasons });
      this.lastPoint.set(canary, { at: now, verdict });
    }
  }

  /** Resolves when every pair handed in so far is judged and recorded (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.judging.size > 0) await Promise.allSettled([...this.judging]);
  }

  report(): Report {
    this.drain();
    const canaries = this.o.canaries();
    const judge = this.o.judge();
    if (this.o.shared)
      return {
        generated_at: new Date(this.o.clock.now()).toISOString(),
        asr: this.asr,
        canaries: canaries.map((c) => {
          const view = this.views.get(c.canary) ?? EMPTY_VIEW;
          return buildReport({
            config: c,
            thresholds: thresholdsFor(judge, c),
            pairs: view.pairs,
            counters: view.counters,
            history: view.history,
            asr: this.asr,
          });
        }),
      };
    return {
      generated_at: new Date(this.o.clock.now()).toISOString(),
      asr: this.asr,
      canaries: canaries.map((c) => {
        const store = this.open();
        return buildReport({
          config: c,
          thresholds: thresholdsFor(judge, c),
          pairs: this.window(c.canary).pairs(),
          counters: store.counters(c.canary),
          history: store.verdicts(c.canary),
          asr: this.asr,
        });
      }),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stop.abort();
    await this.settle();
    this.drain();
    // The last pairs and counts go to the shared store before the gateway closes its connection.
    if (this.o.shared) await this.syncShared();
    this.closed = true;
    await this.judge?.close();
    this.store?.close();
    this.store = undefined;
  }
}

function addCount(into: Map<string, Map<string, number>>, canary: string, name: string, n: number): void {
  let byName = into.get(canary);
  if (!byName) into.set(canary, (byName = new Map()));
  byName.set(name, (byName.get(name) ?? 0) + n);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
