/**
 * Messages between the `chattts` engine (main thread) and its worker (engine-worker.ts).
 * Cancellation does not travel as a message: the worker's thread is busy inside a synchronous
 * session.run when it matters, so each request carries a shared Int32 flag the worker reads
 * before every decode step. A streamed request's audio travels as `chunk` messages (transferred,
 * not copied) as the worker makes them, then `done` with the stats.
 * @module
 */
import type { EngineDescription, ExecutionSettings } from '../engine.ts';
import type { Manifest } from '../../packs/manifest.ts';

export type ToWorker =
  | { type: 'load'; dir: string; manifest: Manifest; execution: ExecutionSettings; concurrency?: number | undefined }
  | { type: 'warm'; id: number }
  | {
      type: 'synth';
      id: number;
      text: string;
      voice?: string | undefined;
      speed?: number | undefined;
      seed?: number | undefined;
      refineText?: boolean | undefined;
      firstSentencePrompt?: boolean | undefined;
      cancel: SharedArrayBuffer;
      /** Send the audio as `chunk` messages while decoding; `done` then carries only the stats. */
      stream?: boolean;
    }
  | { type: 'dispose' };

export interface WireError {
  name: string;
  message: string;
  code?: string;
}

export type FromWorker =
  | { type: 'loaded'; description: EngineDescription }
  | { type: 'load_failed'; error: WireError }
  | { type: 'chunk'; id: number; pcm: Int16Array }
  | { type: 'done'; id: number; pcm?: Int16Array; sampleRate?: number; stats?: Record<string, number> }
  | { type: 'failed'; id: number; aborted: boolean; error: WireError }
  | { type: 'disposed' };
