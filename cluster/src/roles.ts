/**
 * Says plainly which engine serves which role, from the config and the packs on disk — so nobody
 * mistakes the flite stand-in (or a random-weight ChatTTS) for the real primary.
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../gateway/src/config/schema.ts';
import { ESPEAK_INSTALL_HINT, espeakVersion } from '../../node-runtime/src/engines/espeak/espeak-process.ts';

export function describeRoles(config: Config, modelsDir: string): string[] {
  return config.models.map((model) => {
    const pack = model.pack ?? model.id;
    let detail: string;
    try {
      const manifest = JSON.parse(readFileSync(path.join(modelsDir, pack, 'manifest.json'), 'utf8')) as {
        engine: string;
        version: string;
        parameters?: { source?: unknown };
      };
      const caveat =
        manifest.engine === 'flite'
          ? ' — offline stand-in, not a neural model'
          : manifest.engine === 'espeak'
            ? espeakCaveat()
            : String(manifest.parameters?.source ?? '').startsWith('random')
              ? ' — RANDOM WEIGHTS: noise, for testing the canary judge'
              : '';
      detail = `engine ${manifest.engine}, pack ${pack}@${manifest.version}${caveat}`;
    } catch {
      detail = `pack ${pack} not found in ${modelsDir}`;
    }
    return `${model.role.padEnd(8)} ${model.id.padEnd(14)} ${detail}`;
  });
}

/** espeak runs the Debian espeak-ng program: without it the pack is refused and its languages answer 503. */
function espeakCaveat(): string {
  return espeakVersion() === undefined
    ? ` — UNAVAILABLE: espeak-ng is not installed (${ESPEAK_INSTALL_HINT}); requests routed to it answer 503 until it is`
    : ' — offline formant voice (espeak-ng, a separate program), not a neural model';
}
