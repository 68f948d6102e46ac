/**
 * Debian's ffmpeg as a pooled encoder subprocess. A process cannot be reused between responses
 * (its output is one stream with one header), so "pooled" means a warm spare: one ffmpeg per
 * argument list already started and blocked on its stdin, handed to the next response, and
 * replaced at once. A response then pays no process start-up (~40 ms of exec, dynamic linking
 * and codec init) before its first byte. Spares are killed by close().
 * @module
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export type FfmpegProcess = ChildProcessByStdio<Writable, Readable, null>;

export class FfmpegSpares {
  readonly #spares = new Map<string, FfmpegProcess>();
  #closed = false;

  /** @example new FfmpegSpares('ffmpeg').take(['-f', 's16le', …]) */
  constructor(readonly binary: string) {}

  /** A started ffmpeg with these arguments; a new spare is started for the next caller. */
  take(args: readonly string[]): FfmpegProcess {
    const key = args.join('\u0000');
    const spare = this.#spares.get(key);
    this.#spares.delete(key);
    const process = spare && spare.exitCode === null && spare.signalCode === null ? spare : this.#start(args);
    if (!this.#closed) this.#spares.set(key, this.#start(args));
    return process;
  }

  /** Processes waiting as spares. */
  size(): number {
    return this.#spares.size;
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#spares.values()) p.kill('SIGKILL');
    this.#spares.clear();
  }

  #start(args: readonly string[]): FfmpegProcess {
    const child = spawn(this.binary, args, { stdio: ['pipe', 'pipe', 'ignore'] });
    // A spare that fails to start (no ffmpeg) is noticed by the one who takes it.
    child.on('error', () => {});
    child.stdin.on('error', () => {});
    child.unref();
    return child;
  }
}
