/**
 * The `chattts` engine: ChatTTS on onnxruntime-node behind the runtime's Engine interface, run
 * in a worker thread.
 *
 * Why a worker: onnxruntime-node executes `session.run` synchronously on the calling thread. A
 * full-size GPT decode step takes tens of milliseconds on CPU, so running it on the runtime's
 * event loop would hold /healthz and every other request for that long at each step. The worker
 * owns the sessions (one copy of the weights); the main thread only posts requests, sets a shared
 * cancel flag when the request's signal aborts (the worker checks it before every decode step)
 * and maps results and errors back.
 *
 * Failure handling: a failed session run comes back as the runtime's retryable
 * `engine_failure`. If the worker itself dies (e.g. a native abort on OOM), in-flight requests
 * fail with `engine_failure`, and a fresh worker is loaded in the background; requests fail fast
 * with `engine_failure` until it is ready.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { RuntimeErrorCodes, type RuntimeErrorCode } from '../../errors/codes.ts';
import { RuntimeError } from '../../errors/runtime-error.ts';
import { type Engine, type EngineContext, type EngineDescription, type SynthesisRequest, type SynthesisResult } from '../engine.ts';
import type { FromWorker, ToWorker, WireError } from './worker-protocol.ts';

interface Pending {
  resolve: (r: SynthesisResult) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  /** Streamed requests: each chunk as the worker sends it. */
  onChunk?: (pcm: Int16Array) => void;
}

function fromWire(e: WireError): Error {
  if (e.code && e.code in RuntimeErrorCodes)
    return new RuntimeError(e.code as RuntimeErrorCode, e.message, e.code === 'engine_failure' ? { retryAfterS: 1 } : {});
  // Other codes (a pack refusal such as file_unlisted) travel on as a plain `code` field.
  const err = Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  err.name = e.name;
  return err;
}

/**
 * @example
 * const engine = createChatttsEngine({ pack, execution: { providers: ['cuda', 'cpu'], deviceId: 0,
 *   gpuMemLimitBytes: 4 << 30, arenaExtendStrategy: 'kSameAsRequested', intraOpThreads: 2 } });
 * await engine.load(); await engine.warm();
 * const { pcm } = await engine.synthesize({ text: '你好。', seed: 7, signal });
 */
export function createChatttsEngine(context: EngineContext): Engine {
  const { pack, execution } = context;
  let worker: Worker | undefined;
  let description: EngineDescription | undefined;
  let loading: Promise<void> | undefined;
  let disposed = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new RuntimeError('engine_failure', `chattts worker ${why}`, { retryAfterS: 1 }));
    }
  };

  const start = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      // The worker is TypeScript; its plain-JS boot file registers tsx before importing it.
      const w = new Worker(new URL('./engine-worker-boot.mjs', import.meta.url), { execArgv: [] });
      let ready = false;
      w.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'loaded':
            ready = true;
            worker = w;
            description = msg.description;
            resolve();
            return;
          case 'load_failed':
            reject(fromWire(msg.error));
            void w.terminate();
            return;
          case 'chunk': {
            pending.get(msg.id)?.onChunk?.(msg.pcm);
            return;
          }
          case 'done': {
            const p = pending.get(msg.id);
            if (!p) return;
            pending.delete(msg.id);
            p.resolve({ pcm: msg.pcm ?? new Int16Array(0), sampleRate: msg.sampleRate ?? 24_000, ...(msg.stats ? { stats: msg.stats } : {}) });
            return;
          }
          case 'failed': {
            const p = pending.get(msg.id);
            if (!p) return;
            pending.delete(msg.id);
            // A request stopped by its own signal reports the signal's reason, like any engine.
            p.reject(msg.aborted && p.signal?.aborted ? p.signal.reason : fromWire(msg.error));
            return;
          }
          case 'disposed':
            return;
        }
      });
      w.on('error', (error) => {
        if (!ready) reject(error);
      });
      w.on('exit', (code) => {
        if (worker === w) worker = undefined;
        if (!ready) return reject(new Error(`chattts worker exited with ${code} while loading`));
        failAll(`exited with code ${code}`);
        if (!disposed) {
          // Reload in the background; until then requests fail fast and retryably.
          loading = start()
            .catch(() => undefined)
            .finally(() => (loading = undefined));
        }
      });
      w.postMessage({ type: 'load', dir: pack.dir, manifest: pack.manifest, execution, concurrency: context.concurrency } satisfies ToWorker);
    });

  const call = (msg: ToWorker & { id: number }, signal?: AbortSignal, onChunk?: (pcm: Int16Array) => void): Promise<SynthesisResult> => {
    const w = worker;
    if (!w)
      return Promise.reject(new RuntimeError('engine_failure', loading ? 'chattts worker is reloading' : 'chattts engine not loaded', { retryAfterS: 1 }));
    return new Promise<SynthesisResult>((resolve, reject) => {
      pending.set(msg.id, { resolve, reject, ...(signal ? { signal } : {}), ...(onChunk ? { onChunk } : {}) });
      w.postMessage(msg);
    });
  };

  /** The worker's synth message for one request (one-shot or streamed). */
  const synthMessage = (request: SynthesisRequest, cancel: SharedArrayBuffer, stream: boolean) =>
    ({
      type: 'synth',
      id: nextId++,
      text: request.text,
      voice: request.voice,
      speed: request.speed,
      seed: request.seed,
      refineText: request.refineText,
      firstSentencePrompt: request.firstSentencePrompt,
      cancel,
      ...(stream ? { stream: true } : {}),
    }) as const;

  return {
    async load() {
      await start();
    },

    async warm() {
      await call({ type: 'warm', id: nextId++ });
    },

    async synthesize(request: SynthesisRequest): Promise<SynthesisResult> {
      const { signal } = request;
      if (signal.aborted) throw signal.reason;
      const cancel = new SharedArrayBuffer(4);
      const flag = new Int32Array(cancel);
      const onAbort = () => Atomics.store(flag, 0, 1);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await call(synthMessage(request, cancel, false), signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    /**
     * Chunks as the worker posts them. They queue here until the caller reads them (at most one
     * request's audio, ~1 MB per 20 s); a caller that stops reading early raises the cancel flag,
     * so the worker stops within one decode step.
     */
    async *stream(request: SynthesisRequest): AsyncGenerator<Int16Array> {
      const { signal } = request;
      if (signal.aborted) throw signal.reason;
      const cancel = new SharedArrayBuffer(4);
      const flag = new Int32Array(cancel);
      const onAbort = () => Atomics.store(flag, 0, 1);
      signal.addEventListener('abort', onAbort, { once: true });
      const queue: Int16Array[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let failure: unknown;
      const settle = () => {
        finished = true;
        wake?.();
      };
      const msg = synthMessage(request, cancel, true);
      call(msg, signal, (pcm) => {
        queue.push(pcm);
        wake?.();
      }).then(settle, (error: unknown) => {
        failure = error;
        settle();
      });
      try {
        for (;;) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          if (finished) {
            if (failure !== undefined) throw failure;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (!finished) Atomics.store(flag, 0, 1);
      }
    },

    async dispose() {
      disposed = true;
      const w = worker;
      worker = undefined;
      if (!w) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        w.on('message', (m: FromWorker) => {
          if (m.type === 'disposed') {
            clearTimeout(timer);
            resolve();
          }
        });
        w.postMessage({ type: 'dispose' } satisfies ToWorker);
      });
      failAll('disposed');
      await w.terminate();
    },

    describe(): EngineDescription {
      return (
        description ?? {
          kind: 'chattts',
          executionProvider: 'none',
          sampleRate: pack.manifest.sample_rate ?? 24_000,
          voices: pack.manifest.voices,
          deterministic: (context.concurrency ?? 1) <= 1,
        }
      );
    },
  };
}
