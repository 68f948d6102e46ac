/**
 * Preloaded (`--import`) into every process the harness starts, with `--expose-gc`: on SIGUSR2
 * the process runs a full garbage collection and prints what it still holds as one JSON line
 * (`msg: "memory probe"`). A leak check compares retained memory, not RSS: RSS moves by tens of
 * megabytes with GC timing alone (the chaos bad-input check once read +16 MB, -12 MB and -20 MB on
 * the same code). Harness-only; production code knows nothing of it.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  let seq = 0;
  process.on('SIGUSR2', () => {
    // Two passes: the first may only queue finalizers that free more on the second.
    globalThis.gc?.();
    globalThis.gc?.();
    const m = process.memoryUsage();
    const line = {
      msg: 'memory probe',
      seq: ++seq,
      heap_used: m.heapUsed,
      external: m.external,
      array_buffers: m.arrayBuffers,
      rss: m.rss,
      gc: typeof globalThis.gc === 'function',
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
}
