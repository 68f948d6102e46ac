// Plain-JS entry for the chattts worker thread: Node 20 does not apply `--import` loader hooks to
// a worker's TypeScript entry. In a build (dist/) the compiled worker sits beside this file; from
// sources, this file registers tsx and then loads engine-worker.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('./engine-worker.js', import.meta.url);
if (existsSync(compiled)) await import(compiled.href);
else {
  (await import('tsx/esm/api')).register();
  await import('./engine-worker.ts');
}
