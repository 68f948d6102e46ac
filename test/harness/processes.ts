/**
 * Child processes the harness starts: spawned directly with `node --import tsx` (no npx wrapper,
 * so the pid is the real process and SIGSTOP/SIGKILL reach it), tracked in the one process registry (cluster/src/process-registry.ts) and
 * killed on `close()`, on test-process exit and on SIGINT/SIGTERM: no orphans, even when a test
 * fails — and when the test process dies too hard for exit handlers, each child notices it was
 * orphaned (`parent-watch.mjs`, preloaded) and exits. Each process's JSON log lines are kept (bounded) for assertions.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killOnSignals, track } from '../../cluster/src/process-registry.ts';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

const PARENT_WATCH = new URL('./parent-watch.mjs', import.meta.url).pathname;
const MEMORY_PROBE = new URL('./memory-probe.mjs', import.meta.url).pathname;
export interface LogLine {
  msg?: string;
  level?: number;
  [k: string]: unknown;
}

export interface StartOptions {
  /** Script path relative to the repo root, run with `node --import tsx`. */
  script: string;
  args: string[];
  /** Node flags before the script (the gateway's V8 flags). */
  nodeFlags?: readonly string[];
  env?: Record<string, string>;
  /** Resolves when a JSON line with this `msg` appears. */
  readyMsg?: string;
  readyTimeoutMs?: number;
  name: string;
}

/** What a process still holds after a full garbage collection, in bytes. */
export interface RetainedMemory {
  /** V8 heap in use plus memory outside it (Buffers, native objects): what a leak grows. */
  retained: number;
  heapUsed: number;
  external: number;
  rss: number;
}

export class ManagedProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly listeners = new Set<(l: LogLine) => void>();
  private memoryProbes = 0;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      }),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { msg: line };
      }
      this.logs.push(parsed);
      if (this.logs.length > 5000) this.logs.splice(0, 1000);
      for (const l of this.listeners) l(parsed);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (!line.includes('ExperimentalWarning') && !line.includes('--trace-warnings')) {
        this.stderr.push(line);
        if (this.stderr.length > 200) this.stderr.shift();
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the first log line matching `pred` (past or future). */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const seen = this.logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(on);
        reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms; stderr: ${this.stderr.slice(-5).join(' | ')}`));
      }, timeoutMs);
      const on = (l: LogLine) => {
        if (pred(l)) {
          clearTimeout(timer);
          this.listeners.delete(on);
          resolve(l);
        }
      };
      this.listeners.add(on);
      void this.exited.then(() => {
        if (this.listeners.has(on)) {
          clearTimeout(timer);
          this.listeners.delete(on);
          const errors = this.logs.filter((l) => (l.level ?? 0) >= 50).map((l) => JSON.stringify(l));
          reject(
            new Error(
              `${this.name} exited before the expected log line; errors: ${errors.slice(-3).join(' | ')}; stderr: ${this.stderr.slice(-10).join(' | ')}`,
            ),
          );
        }
      });
    });
  }

  /** Full GC in the process, then its retained memory (`memory-probe.mjs`, SIGUSR2). */
  async retainedMemory(timeoutMs = 10_000): Promise<RetainedMemory> {
    const seq = ++this.memoryProbes;
    const answer = this.waitForLog((l) => l.msg === 'memory probe' && l['seq'] === seq, timeoutMs);
    this.signal('SIGUSR2');
    const l = await answer;
    if (l['gc'] !== true) throw new Error(`${this.name}: started without --expose-gc`);
    const heapUsed = Number(l['heap_used']);
    const external = Number(l['external']);
    return { retained: heapUsed + external, heapUsed, external, rss: Number(l['rss']) };
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }
  /** SIGKILL: the process dies at once, its sockets are reset. */
  async kill(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    await this.exited;
  }
  /** SIGSTOP: the process hangs with its sockets open (a hung node). */
  pause(): void {
    this.signal('SIGSTOP');
  }
  resume(): void {
    this.signal('SIGCONT');
  }
  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Spawns a tracked process and waits for its ready line. */
export async function startProcess(opts: StartOptions): Promise<{ proc: ManagedProcess; ready: LogLine | undefined }> {
  killOnSignals();
  const child = spawn(
    process.execPath,
    [...(opts.nodeFlags ?? []), '--expose-gc', '--import', 'tsx', '--import', PARENT_WATCH, '--import', MEMORY_PROBE, opts.script, ...opts.args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  track(child);
  const proc = new ManagedProcess(opts.name, child);
  if (!opts.readyMsg) return { proc, ready: undefined };
  try {
    const ready = await proc.waitForLog((l) => l.msg === opts.readyMsg, opts.readyTimeoutMs ?? 30_000);
    return { proc, ready };
  } catch (err) {
    await proc.kill();
    throw err;
  }
}
