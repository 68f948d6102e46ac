/**
 * Starts a real node-runtime process on 127.0.0.1 with an ephemeral port and waits for its
 * "listening" log line. Every process started here is killed by `stop()` (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface RuntimeProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  logs: Record<string, unknown>[];
  /** The same lines as printed (a key printed twice shows only here: JSON.parse keeps the last). */
  lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startRuntime(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'node-runtime/src/main.ts', '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('runtime did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        lines.push(line);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve(String(entry.url));
        }
      } catch {
        // Not a log line; ignore.
      }
    });
    child.stderr!.resume();
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with ${code} before listening`));
    });
  });
  return {
    url,
    child,
    logs,
    lines,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A private copy of the committed packs, so a test may publish, corrupt or delete freely. */
export async function copyModels(names: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'voxgate-models-'));
  for (const name of names) await cp(path.join(REPO_ROOT, 'models', name), path.join(dir, name), { recursive: true });
  return dir;
}

export async function synthesize(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/synthesize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const LONG_TEXT =
  'The quick brown fox jumps over the lazy dog while the committee reviews the quarterly report. ' +
  'Meanwhile the engineers measure latency at the edge, and the gateway routes every request to a healthy node.';

/** The process logs after it answers, so a line may arrive a moment after the response. */
export async function waitForLog(
  node: RuntimeProcess,
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs = 2000,
): Promise<Record<string, unknown> | undefined> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const line = node.logs.find(match);
    if (line || performance.now() > until) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
}
