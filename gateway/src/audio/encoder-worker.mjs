// @ts-check
/**
 * Worker-thread entry for the audio encoder pool. Plain JavaScript on purpose: worker threads do
 * not inherit a TypeScript loader under vitest or a bare `node`. In a build (dist/) the compiled
 * session sits beside this file; from sources, tsx's loader is brought in (scoped to this import).
 */
import { existsSync } from 'node:fs';

const compiled = new URL('./encoder-session.js', import.meta.url);
const mod = existsSync(compiled) ? await import(compiled.href) : await (await import('tsx/esm/api')).tsImport('./encoder-session.ts', import.meta.url);
export default mod.encoderSession;
