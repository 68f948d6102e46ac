/**
 * Follows a managed process's JSON log lines from now on, without the harness's bounded buffer:
 * scenarios that need every gateway access-log line (which node each attempt went to) use this.
 * @module
 */
import { createInterface } from 'node:readline';
import type { LogLine, ManagedProcess } from '../../harness/processes.ts';

/** Calls `onLine` for every JSON line; returns a function that stops following. */
export function tapLogs(proc: ManagedProcess, onLine: (line: LogLine) => void): () => void {
  const rl = createInterface({ input: proc.child.stdout! });
  rl.on('line', (text) => {
    if (!text.startsWith('{')) return;
    try {
      onLine(JSON.parse(text) as LogLine);
    } catch {
      // A partial or non-JSON line: not a log record.
    }
  });
  return () => rl.close();
}

/** Node ids a gateway access-log line says this request touched (served, or attempted and failed). */
export function nodesTouched(line: LogLine): string[] {
  const out = new Set<string>();
  if (typeof line['node'] === 'string') out.add(line['node']);
  const attempts = line['attempt_log'];
  if (Array.isArray(attempts)) for (const a of attempts) if (a && typeof (a as { node?: unknown }).node === 'string') out.add((a as { node: string }).node);
  return [...out];
}
