/**
 * The judge's worker-thread side: one Silero VAD session and one ASR probe per worker, created on
 * the first task and kept for the worker's life (piscina reuses workers). Loaded through
 * judge-worker.mjs, which brings tsx's loader into the thread.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { detectPocketsphinx, transcribe } from '../asr/pocketsphinx.ts';
import { SileroVad } from '../vad/silero.ts';
import { judgePair, type JudgeTask, type JudgeTools, type PairMetrics } from './pair-metrics.ts';

let tools: Promise<JudgeTools> | undefined;

async function createTools(): Promise<JudgeTools> {
  const vad = await SileroVad.load();
  const asr =
    (workerData as { asr?: string } | null)?.asr === 'off' ? ({ available: false, reason: 'disabled by configuration' } as const) : detectPocketsphinx();
  return {
    speechFraction: async (s) => (await vad.speechFraction(s)).speechFraction,
    ...(asr.available ? { transcribe: (s: Float32Array) => transcribe(asr.binary, s) } : { asrMissingReason: asr.reason }),
  };
}

export async function judgeTask(task: JudgeTask): Promise<PairMetrics> {
  tools ??= createTools();
  return judgePair(task, await tools);
}

export default judgeTask;
