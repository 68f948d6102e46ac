/**
 * Preloaded (`--import`) into every process the harness starts: if the test process dies hard
 * (SIGKILL, V8 out of memory) its exit handlers never run, so the child watches for being
 * orphaned (its parent pid changes) and kills itself. Harness-only; production code knows
 * nothing of it.
 * @module
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 250);
timer.unref();
