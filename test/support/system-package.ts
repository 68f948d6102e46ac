/**
 * One policy for tests that need a system package (Chromium, ffmpeg, espeak-ng, redis-server,
 * promtool, pocketsphinx, python3-torch…): on a developer's machine without it they skip, with
 * one line saying what to install; under `CI=true` a missing package fails the run, because
 * `.ci/run` installs every one of them and a skip there would hide a broken install step.
 *
 * @example
 * const ffmpeg = systemPackage('ffmpeg', () => hasCommand('ffmpeg'), 'apt-get install ffmpeg');
 * describe.skipIf(!ffmpeg)('every format decodes', () => { … });
 * @module
 */
import { spawnSync } from 'node:child_process';

const reported = new Set<string>();

/** True when `command` runs (found on PATH). */
export function hasCommand(command: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return r.error === undefined;
}

/**
 * Whether tests that need `name` can run. Missing: throws under CI=true, else prints one line
 * (once per package and worker) and returns false so the caller skips.
 */
export function systemPackage(name: string, present: () => boolean, install: string): boolean {
  if (present()) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is required in CI but missing: ${install} (.ci/run installs it)`);
  if (!reported.has(name)) {
    reported.add(name);
    console.warn(`[skip] tests that need ${name} are skipped: ${install}`);
  }
  return false;
}
