/**
 * Worker thread hosting ChatTTS (local-engine.ts) for the `chattts` engine. Requests interleave
 * at decode-step boundaries (each step awaits), so one worker serves all of a node's slots with
 * one copy of the weights; the main thread's event loop never runs a session.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { createLocalChattts, type LocalChattts } from './local-engine.ts';
import type { FromWorker, ToWorker, WireError } from './worker-protocol.ts';
import { createFileResolver } from '../../packs/pack-paths.ts';

if (!parentPort) throw new Error('engine-worker.ts must run in a worker thread');
const port = parentPort;
let engine: LocalChattts | undefined;

const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function wire(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

port.on('message', (msg: ToWorker) => {
  void handle(msg);
});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load': {
      try {
        const e = createLocalChattts({
          pack: { dir: msg.dir, manifest: msg.manifest, file: createFileResolver(msg.dir, msg.manifest) },
          execution: msg.execution,
          ...(msg.concurrency ? { concurrency: msg.concurrency } : {}),
        });
        await e.load();
        engine = e;
        send({ type: 'loaded', description: e.describe() });
      } catch (error) {
        send({ type: 'load_failed', error: wire(error) });
      }
      return;
    }
    case 'warm': {
      try {
        await engine!.warm();
        send({ type: 'done', id: msg.id });
      } catch (error) {
        send({ type: 'failed', id: msg.id, aborted: false, error: wire(error) });
      }
      return;
    }
    case 'synth': {
      const flag = new Int32Array(msg.cancel);
      const signal = {
        get aborted() {
          return Atomics.load(flag, 0) !== 0;
        },
        reason: new Error('cancelled by the caller'),
      };
      try {
        if (!engine) throw new Error('chattts worker used before load');
        const req = {
          text: msg.text,
          voice: msg.voice,
          speed: msg.speed,
          seed: msg.seed,
          refineText: msg.refineText,
          firstSentencePrompt: msg.firstSentencePrompt,
          signal,
        };
        if (msg.stream) {
          const it = engine.streamRun(req);
          let r = await it.next();
          while (!r.done) {
            send({ type: 'chunk', id: msg.id, pcm: r.value }, [r.value.buffer as ArrayBuffer]);
            r = await it.next();
          }
          send({ type: 'done', id: msg.id, sampleRate: engine.describe().sampleRate, stats: r.value });
        } else {
          const r = await engine.run(req);
          send({ type: 'done', id: msg.id, pcm: r.pcm, sampleRate: r.sampleRate, stats: r.stats }, [r.pcm.buffer as ArrayBuffer]);
        }
      } catch (error) {
        send({ type: 'failed', id: msg.id, aborted: signal.aborted, error: wire(error) });
      }
      return;
    }
    case 'dispose': {
      await engine?.dispose();
      engine = undefined;
      send({ type: 'disposed' });
      return;
    }
  }
}
