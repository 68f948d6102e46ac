/**
 * Every child process this process started, in one registry: the cluster supervisor's children,
 * the test harness's and the benchmarks'. A tracked child leaves the registry when it exits; the
 * ones still running when this process exits are killed (SIGCONT first, so a paused one dies
 * too). `killOnSignals()` also kills them on SIGINT/SIGTERM and exits 130: for the harness and
 * the benches, which have no graceful stop of their own (the supervisor has one, and keeps it).
 * @module
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let onExitHooked = false;
let onSignalsHooked = false;

/** SIGKILL to every tracked child still running, at once. */
export function killAllNow(): void {
  for (const p of live) {
    try {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Registers `child` until it exits; killed with this process if still running then. */
export function track(child: ChildProcess): ChildProcess {
  if (!onExitHooked) {
    onExitHooked = true;
    process.on('exit', killAllNow);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGINT/SIGTERM kill every tracked child and exit 130. */
export function killOnSignals(): void {
  if (onSignalsHooked) return;
  onSignalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      killAllNow();
      process.exit(130);
    });
}

/** The tracked children still running. */
export function tracked(): ChildProcess[] {
  return [...live];
}
