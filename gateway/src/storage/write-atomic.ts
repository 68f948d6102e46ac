/**
 * Atomic file writes for the gateway's on-disk state (job audio, the audio cache): write a
 * temporary file beside the target, then rename(2) it into place, so a reader or a restart after
 * a crash sees the old file or the whole new one, never half of it.
 * @module
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeAtomic(file: string, bytes: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

/**
 * `file` resolved inside `dir`; throws when it would leave it. Store file names come from the
 * store itself, but a path that escapes its directory is never read or served.
 */
export function pathInside(dir: string, file: string): string {
  const full = path.resolve(dir, file);
  if (!full.startsWith(path.resolve(dir) + path.sep)) throw new Error(`path ${file} leaves ${dir}`);
  return full;
}
