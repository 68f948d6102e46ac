/**
 * Processes the benchmarks start, and what /proc says about them.
 *
 * Every child is registered (cluster/src/process-registry.ts) and killed on `stopAll()`, on exit and on SIGINT/SIGTERM, so a failed
 * or interrupted run leaves nothing behind. Services under measurement write their stdout to a
 * file, not a pipe: parsing thousands of access-log lines a second in the orchestrator would take
 * CPU from the very 2 cores being measured, and a slow pipe reader would block the gateway.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { killOnSignals, track, tracked } from '../../cluster/src/process-registry.ts';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export interface Service {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The first JSON line whose `msg` matched the ready message. */
  ready: Record<string, unknown>;
  logFile: string;
  exited: Promise<number | null>;
  running(): boolean;
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Command and args; `node --import tsx` is prepended when `script` is set instead. */
  script?: string;
  command?: string;
  args: string[];
  env?: Record<string, string>;
  logFile: string;
  readyMsg?: string;
  readyTimeoutMs?: number;
  /** Extra node flags before `--import tsx` (e.g. --cpu-prof). */
  nodeFlags?: readonly string[];
}

function findReady(file: string, msg: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as Record<string, unknown>;
      if (j['msg'] === msg) return j;
    } catch {
      /* partial line */
    }
  }
  return undefined;
}

/** Starts a tracked service with stdout+stderr to `logFile`, and waits for its ready line. */
export async function startService(o: StartOptions): Promise<Service> {
  killOnSignals();
  const fd = openSync(o.logFile, 'w');
  const cmd = o.script ? process.execPath : o.command!;
  // Compiled scripts (dist/) run on plain node; TypeScript sources through tsx.
  const loader = o.script?.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const args = o.script ? [...(o.nodeFlags ?? []), ...loader, o.script, ...o.args] : o.args;
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1', ...o.env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  track(child);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c, sig) => {
      code = c ?? (sig ? -1 : null);
      resolve(code);
    }),
  );
  const running = () => code === undefined;
  const kill = async () => {
    if (running()) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  };
  const stop = async (graceMs = 3_000) => {
    if (!running()) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  let ready: Record<string, unknown> = {};
  if (o.readyMsg) {
    const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
    for (;;) {
      const r = findReady(o.logFile, o.readyMsg);
      if (r) {
        ready = r;
        break;
      }
      if (!running() || Date.now() > deadline) {
        await kill();
        let tail = '';
        try {
          tail = readFileSync(o.logFile, 'utf8').slice(-1500);
        } catch {
          /* none */
        }
        throw new Error(`${o.name} did not become ready: ${tail}`);
      }
      await sleep(40);
    }
  }
  return { name: o.name, pid: child.pid!, child, ready, logFile: o.logFile, exited, running, stop, kill };
}

/** Kills every service still running (the `finally` of every phase). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    tracked().map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          try {
            p.kill('SIGCONT');
            p.kill('SIGKILL');
          } catch {
            resolve();
          }
        }),
    ),
  );
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux x86-64.

/** utime+stime of a process (all threads) or one thread, in ms. NaN when it is gone. */
export function cpuMs(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MB. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** CPU and peak RSS of a process over a window: `const m = meter(pid); …; m.stop()`. */
export function meter(pid: number, sampleMs = 250): { stop(): { cpuMs: number; mainThreadCpuMs: number; peakRssMb: number; wallMs: number } } {
  const cpu0 = cpuMs(pid);
  const main0 = cpuMs(pid, pid);
  const t0 = performance.now();
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, sampleMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMb(pid));
      return { cpuMs: cpuMs(pid) - cpu0, mainThreadCpuMs: cpuMs(pid, pid) - main0, peakRssMb: peak, wallMs: performance.now() - t0 };
    },
  };
}
