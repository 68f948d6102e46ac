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
