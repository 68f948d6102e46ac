/**
 * Kept for callers that preload the `.ts` path. Prefer `parent-watch.mjs`: a `.ts` preload does
 * not load inside worker threads (which inherit `--import`), so engines running in workers fail.
 * @module
 */
import './parent-watch.mjs';
