/**
 * Optional ASR through Debian's `pocketsphinx_continuous` (CMU Sphinx, en-us model from the
 * `pocketsphinx-en-us` package). It is not an npm dependency and may be missing: `detect()` says
 * why when it is, and the judge then reports WER as unavailable instead of failing. It costs
 * ~0.4–0.7 s of CPU per second of audio here, so the judge runs it on a sample of pairs only.
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../audio/wav.ts';

const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const SEARCH_PATH = (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter);

export type AsrAvailability = { available: true; binary: string } | { available: false; reason: string };

/**
 * @example
 * const asr = detectPocketsphinx();
 * if (!asr.available) log.info({ reason: asr.reason }, 'WER disabled');
 */
export function detectPocketsphinx(): AsrAvailability {
  const binary = SEARCH_PATH.map((d) => path.join(d, 'pocketsphinx_continuous')).find((p) => existsSync(p));
  if (!binary) return { available: false, reason: 'pocketsphinx_continuous not found on PATH (Debian: apt-get install pocketsphinx pocketsphinx-en-us)' };
  for (const f of ['en-us', 'en-us.lm.bin', 'cmudict-en-us.dict'])
    if (!existsSync(path.join(MODEL_DIR, f)))
      return { available: false, reason: `pocketsphinx model file ${path.join(MODEL_DIR, f)} missing (apt-get install pocketsphinx-en-us)` };
  return { available: true, binary };
}

/** Transcribes 16 kHz mono audio; resolves with the recognised words (possibly empty). */
export async function transcribe(binary: string, samples16k: Float32Array, timeoutMs = 20_000): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'voxgate-asr-'));
  try {
    const file = path.join(dir, 'in.wav');
    await writeFile(file, encodeWav(samples16k, 16_000));
    const args = [
      '-hmm',
      path.join(MODEL_DIR, 'en-us'),
      '-lm',
      path.join(MODEL_DIR, 'en-us.lm.bin'),
      '-dict',
      path.join(MODEL_DIR, 'cmudict-en-us.dict'),
      '-infile',
      file,
      '-logfn',
      '/dev/null',
    ];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(binary, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    // One line per utterance segment the decoder found.
    return stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .join(' ');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
