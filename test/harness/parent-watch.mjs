/**
 * Preloaded (`--import`) into every process the harness starts: if the test process dies hard
 * (SIGKILL, V8 out of memory) its exit handlers never run, so the child watches for being
 * orphaned (its parent pid changes) and kills itself. Plain JavaScript on purpose: worker threads
 * inherit `--import` flags, and a `.ts` preload fails to load inside them (flite's workers did).
 * Harness-only; production code knows nothing of it.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 250);
timer.unref();
