/**
 * The main-thread side of one streaming flite run in the worker pool (flite-worker.mjs): a queue
 * of the utterances the worker posted, the flow-control counter it waits on, and cancellation.
 *
 * Shared state (an Int32Array over a SharedArrayBuffer, the worker uses the same layout):
 * `[CANCELLED]` set to 1 stops flite at its next utterance end; `[CONSUMED]` counts the utterances
 * taken from the queue, and flite waits while it is `WINDOW` (2) ahead of it. Both are changed
 * with Atomics and followed by a notify, so a waiting worker wakes at once.
 * @module
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';

export interface FliteTask {
  text: string;
  voice: string;
  speed: number;
}

/** What the worker receives for a streaming run. */
export interface FliteStreamTask extends FliteTask {
  port: MessagePort;
  state: Int32Array;
}

/** What the worker resolves a streaming run with. */
export interface FliteRunResult {
  /** Utterances posted; -1 when the run was cancelled. */
  utterances: number;
  cancelled: boolean;
}

export type FlitePool = Piscina<FliteStreamTask, FliteRunResult>;

export interface FliteChunk {
  pcm: Int16Array;
  sampleRate: number;
}

export interface StreamingRun {
  /** The next utterance, or undefined when flite finished; rejects when the worker failed. */
  next(): Promise<FliteChunk | undefined>;
  /** Stops flite at its next utterance end (idempotent). */
  cancel(): void;
  /** Cancels if still running and resolves once the worker is free. */
  close(): Promise<void>;
}

const CANCELLED = 0;
const CONSUMED = 1;

export function startStreamingRun(pool: FlitePool, task: FliteTask): StreamingRun {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const queue: FliteChunk[] = [];
  let received = 0;
  /** Set when the worker's task settled: how many utterances it posted, or its failure. */
  let outcome: { posted: number } | { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const signalChange = (): void => {
    wake?.();
    wake = undefined;
  };

  port1.on('message', (chunk: FliteChunk) => {
    received++;
    queue.push(chunk);
    signalChange();
  });
  // The port and the pool's own channel are separate: the task may settle before its last
  // utterance arrives here, so the end is "settled and every posted utterance received".
  const settled = pool.run({ ...task, port: port2, state }, { transferList: [port2] }).then(
    (result) => {
      outcome = { posted: result.utterances };
      signalChange();
    },
    (error: unknown) => {
      outcome = { error };
      signalChange();
    },
  );

  function cancel(): void {
    Atomics.store(state, CANCELLED, 1);
    Atomics.notify(state, CONSUMED);
  }

  return {
    async next() {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          Atomics.add(state, CONSUMED, 1);
          Atomics.notify(state, CONSUMED);
          return chunk;
        }
        if (outcome && 'error' in outcome) throw outcome.error;
        if (outcome && received >= outcome.posted) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    cancel,
    async close() {
      cancel();
      await settled;
      port1.close();
    },
  };
}
