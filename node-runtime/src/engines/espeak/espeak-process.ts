/**
 * One utterance through the `espeak-ng` program: text on stdin, a WAV on stdout, PCM back.
 *
 * espeak-ng is GPL-3.0, so voxgate never links it (no native addon, no WebAssembly build in the
 * process): it runs as a separate program, one short-lived child per utterance, and the project
 * only exchanges bytes with it. That keeps voxgate's own licence clean and makes cancellation
 * exact: aborting kills the child.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';

export const ESPEAK_COMMAND = 'espeak-ng';
export const ESPEAK_INSTALL_HINT = 'apt-get install -y espeak-ng';

/** espeak-ng's fixed output rate. */
export const ESPEAK_SAMPLE_RATE = 22_050;

/** espeak-ng's `--stdout` writes a 44-byte streaming WAV header (its sizes are placeholders). */
const WAV_HEADER_BYTES = 44;

export interface Utterance {
  text: string;
  /** An espeak-ng voice id, optionally with a variant: `cmn-latn-pinyin`, `en-us+f3`. */
  voice: string;
  /** Words per minute (espeak-ng's `-s`). */
  wordsPerMinute: number;
  signal: AbortSignal;
}

/** The installed espeak-ng's version line, or undefined when the program is missing. */
export function espeakVersion(): string | undefined {
  const r = spawnSync(ESPEAK_COMMAND, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/**
 * Speaks `text` with one espeak-ng child and resolves its mono PCM16. The child is killed when
 * the signal aborts (the promise then rejects with the signal's reason).
 */
export function speakOnce(u: Utterance): Promise<Int16Array> {
  if (u.signal.aborted) return Promise.reject(u.signal.reason);
  return new Promise((resolve, reject) => {
    // -b 1: the input is UTF-8 whatever the locale; --stdin: text never parsed as an option.
    const child = spawn(ESPEAK_COMMAND, ['-b', '1', '-v', u.voice, '-s', String(u.wordsPerMinute), '--stdin', '--stdout'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    const out: Buffer[] = [];
    let err = '';
    let settled = false;
    const finish = (error: unknown, pcm?: Int16Array) => {
      if (settled) return;
      settled = true;
      u.signal.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve(pcm!);
    };
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(u.signal.reason);
    };
    u.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ENOENT' ? new Error(`${ESPEAK_COMMAND} is not installed: ${ESPEAK_INSTALL_HINT}`) : e));
    child.on('close', (code, signal) => {
      if (code !== 0) return finish(new Error(`${ESPEAK_COMMAND} exited with ${code ?? signal}: ${err.trim().slice(0, 200)}`));
      try {
        finish(undefined, pcmOf(Buffer.concat(out)));
      } catch (e) {
        finish(e);
      }
    });
    // A child killed before it read its input closes stdin under us: that is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(u.text);
  });
}

function pcmOf(wav: Buffer): Int16Array {
  if (wav.length < WAV_HEADER_BYTES || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 36, 40) !== 'data')
    throw new Error(`${ESPEAK_COMMAND} wrote no WAV (${wav.length} bytes)`);
  const rate = wav.readUInt32LE(24);
  if (rate !== ESPEAK_SAMPLE_RATE) throw new Error(`${ESPEAK_COMMAND} wrote ${rate} Hz, expected ${ESPEAK_SAMPLE_RATE}`);
  const bytes = (wav.length - WAV_HEADER_BYTES) & ~1;
  const pcm = new Int16Array(bytes / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = wav.readInt16LE(WAV_HEADER_BYTES + i * 2);
  return pcm;
}
