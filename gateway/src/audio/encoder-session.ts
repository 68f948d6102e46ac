/**
 * One response's encoder, inside an encoder worker thread. The session is a piscina task that
 * stays open for the life of the response, so piscina places sessions on the least busy thread
 * and counts them; the PCM and the encoded bytes flow over the MessagePort the task carries.
 * A `rate` message switches the input rate (resampled here, off the event loop).
 * Every `pcm` and `rate` message gets exactly one `bytes` reply (possibly empty): the main side writes the
 * next chunk only after it, which is the back-pressure. The session ends, and frees its codec,
 * on `end` (after the last bytes), or when the main side closes the port (destroyed mid-stream).
 *
 * Loaded through encoder-worker.mjs, which brings tsx's loader into the thread.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import { CODECS, type Codec, type WorkerFormat } from './codecs/index.ts';
import { concatBytes } from './codecs/codec.ts';
import { InputRate } from './input-rate.ts';

export interface SessionTask {
  port: MessagePort;
  format: WorkerFormat;
  sampleRate: number;
}

export interface SessionResult {
  inputSamples: number;
  outputBytes: number;
  /** false when the main side went away before `end`. */
  completed: boolean;
}

export type ToWorker = { type: 'pcm'; pcm: ArrayBuffer } | { type: 'rate'; rate: number } | { type: 'end' };
export type FromWorker = { type: 'ready'; threadId: number } | { type: 'bytes'; bytes: Uint8Array; last: boolean } | { type: 'error'; message: string };

export async function encoderSession(task: SessionTask): Promise<SessionResult> {
  const { port } = task;
  const result: SessionResult = { inputSamples: 0, outputBytes: 0, completed: false };
  // Listen for the main side's close from the start: it may leave while the codec loads, and a
  // port's close is not replayed to listeners added later.
  let gone = false;
  let onGone = (): void => {
    gone = true;
  };
  port.on('close', () => onGone());
  let codec: Codec;
  try {
    codec = await CODECS[task.format](task.sampleRate);
  } catch (error) {
    send(port, { type: 'error', message: `cannot start the ${task.format} encoder: ${(error as Error).message}` });
    port.close();
    return result;
  }
  if (gone) {
    codec.free();
    return result;
  }
  send(port, { type: 'ready', threadId });
  const rate = new InputRate(task.sampleRate);
  return new Promise<SessionResult>((resolve) => {
    let open = true;
    const finish = (): void => {
      if (!open) return;
      open = false;
      codec.free();
      port.close();
      resolve(result);
    };
    onGone = finish;
    port.on('message', (message: ToWorker) => {
      if (!open) return;
      try {
        if (message.type === 'pcm') {
          const pcm = new Int16Array(message.pcm);
          result.inputSamples += pcm.length;
          reply(port, codec.encode(rate.push(pcm)), false, result);
        } else if (message.type === 'rate') {
          reply(port, codec.encode(rate.switch(message.rate)), false, result);
        } else {
          const last = codec.encode(rate.end());
          const tail = concatBytes([last, codec.finish()]);
          result.completed = true;
          reply(port, tail, true, result);
          finish();
        }
      } catch (error) {
        send(port, { type: 'error', message: (error as Error).message });
        finish();
      }
    });
  });
}

function reply(port: MessagePort, bytes: Uint8Array, last: boolean, result: SessionResult): void {
  result.outputBytes += bytes.length;
  // Moved, not copied, when the bytes fill a buffer of their own. Never an empty one: shared
  // empty arrays (a resampler with nothing to say) would be detached for every later user.
  const own = bytes.byteLength > 0 && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  port.postMessage({ type: 'bytes', bytes, last } satisfies FromWorker, own ? [bytes.buffer as ArrayBuffer] : []);
}

function send(port: MessagePort, message: FromWorker): void {
  port.postMessage(message);
}

export default encoderSession;
