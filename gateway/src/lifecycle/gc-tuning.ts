/**
 * The V8 flag the gateway runs with, and why.
 *
 * `--no-incremental-marking-task`. V8 schedules a task that starts a full (mark-compact) GC
 * whenever the room left below the old generation's limit is smaller than the young
 * generation's capacity (a scavenge could promote that much). In a request-serving process the
 * young generation grows to its maximum while the old one stays small (live ≈ 20 MB, limit
 * ≈ 43 MB), so that condition held again right after every full GC. Under paced load (640 req/s,
 * 50 ms upstreams) the gateway then ran 12–16 mark-compacts and almost no scavenges per 4-s
 * window (`--trace-gc`, `--trace-incremental-marking`: "Start (task): 19MB / 43MB"), each with
 * 5–15 ms of pauses plus concurrent marking on helper threads; the process dropped in and out of
 * that state. Without the task, marking starts when allocation reaches the limit: 1 mark-compact
 * per window. Same-run A/B, 4 repetitions: CPU per request −20 % at paced load, equal at
 * saturation. The price is memory: the old generation now fills to its limit before it is
 * collected, RSS +6 MB at paced load and +15–30 MB at saturation (211 MB at c=128 in the bench).
 *
 * A flag that decides how a heap is managed belongs on the command line: every launcher passes
 * `GATEWAY_NODE_FLAGS` (package.json, the cluster supervisor, the test harness, the bench).
 * @module
 */
import { setFlagsFromString } from 'node:v8';

export const GATEWAY_NODE_FLAGS: readonly string[] = ['--no-incremental-marking-task'];

/**
 * For a gateway started without the flags (`node dist/gateway/src/main.js`). Set at run time V8
 * honours them only in part (6–8 mark-compacts per window instead of 1), so launchers should not
 * rely on this.
 */
export function applyGcTuning(): void {
  for (const flag of GATEWAY_NODE_FLAGS) if (!process.execArgv.includes(flag)) setFlagsFromString(flag);
}
