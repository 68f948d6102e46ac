/**
 * Resident set size of a process, read from /proc like the kernel's OOM killer sees it.
 * @module
 */
import { readFileSync } from 'node:fs';

/** Bytes, or undefined when the process is gone (or /proc is unavailable). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
