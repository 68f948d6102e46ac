// Plain-JS entry for the chattts worker thread: Node 20 does not apply `--import` loader hooks to
// a worker's TypeScript entry, so this file registers tsx and then loads engine-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');
