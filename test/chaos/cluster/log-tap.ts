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

export interface Touch {
  node: string;
  /** `served`, or the failed attempt's error code (`upstream_connect`, `upstream_reset`…). */
  outcome: string;
  /** How long the attempt took at the gateway. */
  ms: number;
}

/** Every node a gateway access-log line's request touched, with what it cost. */
export function touches(line: LogLine): Touch[] {
  const out: Touch[] = [];
  const attempts = line['attempt_log'];
  if (Array.isArray(attempts)) {
    for (const a of attempts as { node?: unknown; outcome?: unknown; ms?: unknown }[])
      if (typeof a?.node === 'string') out.push({ node: a.node, outcome: String(a.outcome), ms: typeof a.ms === 'number' ? a.ms : 0 });
  } else if (typeof line['node'] === 'string') {
    out.push({ node: line['node'], outcome: 'served', ms: typeof line['cost_ms'] === 'number' ? line['cost_ms'] : 0 });
  }
  return out;
}
