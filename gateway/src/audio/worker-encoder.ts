/**
 * An AudioEncoder whose codec (and resampling, after setInputRate) runs in an encoder worker
 * thread (encoder-pool.ts). One chunk is
 * in flight at a time: the write callback waits for the worker's reply, so a slow reader slows
 * the writer instead of growing a queue.
 * @module
 */
import type { TransformCallback } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
import type { WorkerFormat } from './codecs/index.ts';
import type { EncoderPool } from './encoder-pool.ts';
import type { FromWorker, SessionResult, ToWorker } from './encoder-session.ts';

export class WorkerAudioEncoder extends AudioEncoder {
  readonly #port: MessagePort;
  /** Settles when the worker has freed the session (after end or destroy). */
  readonly released: Promise<SessionResult>;
  #threadId: number | undefined;
  #waiting: TransformCallback | undefined;
  #closed = false;

  constructor(pool: EncoderPool, format: WorkerFormat, sampleRate: number) {
    super(format, sampleRate);
    const session = pool.open(format, sampleRate);
    this.#port = session.port;
    this.released = session.done.catch(() => ({ inputSamples: 0, outputBytes: 0, completed: false }));
    this.#port.on('message', (message: FromWorker) => this.#onMessage(message));
    this.#port.on('close', () => {
      this.#closed = true;
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.(new Error('audio encoder session closed before it finished'));
    });
  }

  override site(): EncodingSite | undefined {
    return this.#threadId === undefined ? undefined : { kind: 'thread', threadId: this.#threadId };
  }

  protected override encodeSamples(pcm: Int16Array, callback: TransformCallback): void {
    this.#send(callback, { type: 'pcm', pcm: pcm.buffer as ArrayBuffer }, [pcm.buffer as ArrayBuffer]);
  }

  protected override switchRate(rate: number, callback: TransformCallback): void {
    this.#send(callback, { type: 'rate', rate }, []);
  }

  protected override finishStream(callback: TransformCallback): void {
    this.#send(callback, { type: 'end' }, []);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Closing the port ends the session in the worker, which frees the codec and the slot.
    this.#waiting = undefined;
    this.#port.close();
    callback(error);
  }

  #send(callback: TransformCallback, message: ToWorker, transfer: ArrayBuffer[]): void {
    if (this.#closed) return callback(new Error('audio encoder session is closed'));
    this.#waiting = callback;
    this.#port.postMessage(message, transfer);
  }

  #onMessage(message: FromWorker): void {
    if (message.type === 'ready') {
      this.#threadId = message.threadId;
      return;
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (message.type === 'error') {
      const error = new Error(`audio encoder failed: ${message.message}`);
      if (waiting) waiting(error);
      else this.destroy(error);
      return;
    }
    if (message.bytes.length > 0) this.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
    waiting?.();
  }
}
