/**
 * One supervised child process (a node runtime or the gateway): started, restarted with
 * exponential backoff when it dies unexpectedly, and stopped with SIGTERM then SIGKILL.
 *
 * Each child gets an IPC channel; the runtime and the gateway exit when it disconnects, so even a
 * supervisor killed with SIGKILL leaves no orphan behind.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { track } from './process-registry.ts';

export interface ChildSpec {
  name: string;
  /** A program other than Node (redis-server): run through tether.ts, which ends it when the IPC channel closes. */
  command?: string;
  /** Node flags before `--import tsx` (the gateway's V8 flags). */
  nodeFlags?: readonly string[];
  /** Arguments after `node --import tsx`. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  cwd: string;
}

export interface ChildEvents {
  /** A JSON log line the child printed. */
  onLog?(name: string, line: Record<string, unknown>): void;
  /** Every stdout line as printed (programs that do not log JSON). */
  onLine?(name: string, line: string): void;
  onExit?(name: string, code: number | null, signal: NodeJS.Signals | null, restartInMs: number | undefined): void;
}

const TETHER = fileURLToPath(new URL('./tether.ts', import.meta.url));
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** A child that stayed up this long is healthy again: its next crash restarts quickly. */
const STABLE_AFTER_MS = 30_000;
const STOP_GRACE_MS = 12_000;

export class SupervisedChild {
  readonly #spec: ChildSpec;
  readonly #events: ChildEvents;
  readonly #log: WriteStream;
  #child: ChildProcess | undefined;
  #stopping = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(spec: ChildSpec, events: ChildEvents = {}) {
    this.#spec = spec;
    this.#events = events;
    this.#log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    const startedAt = performance.now();
    const { command } = this.#spec;
    const options = { cwd: this.#spec.cwd, env: { ...process.env, ...this.#spec.env } };
    const script = command ? [TETHER, command, ...this.#spec.args] : this.#spec.args;
    const child = spawn(process.execPath, [...(this.#spec.nodeFlags ?? []), '--import', 'tsx', ...script], {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.#child = child;
    // Killed with the supervisor if it exits without stopping it (the IPC channel is the other net).
    track(child);
    child.stderr?.pipe(this.#log, { end: false });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#log.write(`${line}\n`);
      this.#events.onLine?.(this.#spec.name, line);
      if (!line.startsWith('{')) return;
      try {
        this.#events.onLog?.(this.#spec.name, JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A partial or non-JSON line: it is in the log file, nothing more to do.
      }
    });
    child.once('exit', (code, signal) => {
      this.#child = undefined;
      if (this.#stopping) return;
      if (performance.now() - startedAt > STABLE_AFTER_MS) this.#failures = 0;
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#failures);
      this.#failures++;
      this.restarts++;
      this.#events.onExit?.(this.#spec.name, code, signal, delay);
      this.#restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  /** SIGTERM, then SIGKILL after the grace period. Resolves when the process is gone. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
    await new Promise<void>((resolve) => this.#log.end(() => resolve()));
  }
}
