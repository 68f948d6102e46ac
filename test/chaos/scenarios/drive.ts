/**
 * Runs one scenario's load (in the load-generator process) while its fault script runs here,
 * timed against the load's own clock, and samples every process's RSS throughout. Fault marks
 * and samples come back relative to the load's epoch so the chart lines up with the records.
 * @module
 */
import type { ChaosCluster } from '../cluster/chaos-cluster.ts';
import type { LoadSpecInput, RequestRecord } from '../load/load-spec.ts';
import { startLoad } from '../load/run-load.ts';
import type { FaultMark, MemorySample } from './scenario.ts';

export interface DriveContext {
  cluster: ChaosCluster;
  /** Sleeps until `ms` after the first request was due. */
  at(ms: number): Promise<void>;
  /** Marks a fault that starts now; call the returned function when it ends. */
  mark(label: string): () => void;
  /** Marks an instantaneous fault (a kill). */
  instant(label: string): void;
  /** ms since the load's epoch. */
  elapsed(): number;
}

export interface Driven {
  epochMs: number;
  /** The load generator's own event-loop delay over the run. */
  clientLoopDelayMs?: { p99: number; max: number };
  records: RequestRecord[];
  faults: FaultMark[];
  samples: MemorySample[];
}

export type LoadInput = Omit<LoadSpecInput, 'results_file'>;

/**
 * @example
 * const run = await drive(cluster, load, async (ctx) => {
 *   await ctx.at(5_000);
 *   ctx.instant('SIGKILL north-1');
 *   await cluster.node('north-1').kill();
 * });
 */
export async function drive(
  cluster: ChaosCluster,
  load: LoadInput,
  script: (ctx: DriveContext) => Promise<void>,
  options: { sampleEveryMs?: number } = {},
): Promise<Driven> {
  const marks: { label: string; start: number; end?: number }[] = [];
  const rawSamples: { at: number; rss: Record<string, number> }[] = [];
  const sample = (): void => void rawSamples.push({ at: Date.now(), rss: cluster.rss() });
  sample();
  const sampler = setInterval(sample, options.sampleEveryMs ?? 1_000);
  const handle = startLoad(load);
  try {
    const epoch = await handle.started;
    const ctx: DriveContext = {
      cluster,
      at: async (ms) => {
        const wait = epoch + ms - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      },
      mark(label) {
        const m: { label: string; start: number; end?: number } = { label, start: Date.now() };
        marks.push(m);
        return () => void (m.end ??= Date.now());
      },
      instant(label) {
        marks.push({ label, start: Date.now() });
      },
      elapsed: () => Date.now() - epoch,
    };
    const scripted = script(ctx).catch((error: unknown) => {
      handle.stop();
      throw error;
    });
    const [run] = await Promise.all([handle.done, scripted]);
    sample();
    const rel = (t: number) => Math.round((t - run.summary.epoch_ms) / 10) / 100;
    return {
      epochMs: run.summary.epoch_ms,
      ...(run.summary.client_loop_delay_ms ? { clientLoopDelayMs: run.summary.client_loop_delay_ms } : {}),
      records: run.records,
      faults: marks.map((m) => ({ label: m.label, startS: rel(m.start), ...(m.end !== undefined ? { endS: rel(m.end) } : {}) })),
      samples: rawSamples.map((s) => ({ t: rel(s.at), rss: s.rss })),
    };
  } finally {
    clearInterval(sampler);
    handle.stop();
  }
}

/** Sum of `proxy.stats.synth` over some nodes: how many synthesis calls reached them. */
export function synthCalls(nodes: { proxy: { stats: { synth: number } } }[]): number {
  return nodes.reduce((a, n) => a + n.proxy.stats.synth, 0);
}
