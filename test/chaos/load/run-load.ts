/**
 * Runs the load generator as its own process and returns its records. The child is killed if it
 * outlives its schedule by more than its client timeout (it should never need it).
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LoadSpecSchema, type LoadSpecInput, type LoadSummary, type RequestRecord } from './load-spec.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface LoadRun {
  summary: LoadSummary;
  records: RequestRecord[];
}

/** A started load run: `done` resolves when the generator exits; `stop()` kills it early. */
export interface LoadHandle {
  done: Promise<LoadRun>;
  /** Resolves with the generator's epoch (Date.now()) when its first request is due. */
  started: Promise<number>;
  pid: number;
  stop(): void;
}

/**
 * @example
 * const run = startLoad({ targets: [gw.url], keys: ['demo-pro'], texts: ['hi'], phases: [{ duration_ms: 5000, rps: 50 }], max_requests: 400 });
 * const { records } = await run.done;
 */
export function startLoad(input: Omit<LoadSpecInput, 'results_file'>): LoadHandle {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-load-'));
  const spec = LoadSpecSchema.parse({ ...input, results_file: path.join(dir, 'records.jsonl') });
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/load/load-generator.ts', specFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const scheduleMs = spec.phases.reduce((a, p) => a + p.duration_ms, 0);
  const watchdog = setTimeout(() => child.kill('SIGKILL'), scheduleMs + spec.timeout_ms + 30_000);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stdout = '';
  let stderr = '';
  let onStarted: (epoch: number) => void = () => undefined;
  const started = new Promise<number>((resolve) => (onStarted = resolve));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const m = /"msg":"load started","epoch_ms":(\d+)/.exec(stdout);
    if (m) onStarted(Number(m[1]));
  });
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const done = new Promise<LoadRun>((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(watchdog);
      process.off('exit', killOnExit);
      try {
        if (code !== 0) throw new Error(`load generator exited with ${code}: ${stderr}`);
        const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '') as LoadSummary;
        const records = readFileSync(spec.results_file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as RequestRecord);
        resolve({ summary, records });
      } catch (error) {
        reject(error as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  void done.catch(() => onStarted(Date.now()));
  return { done, started, pid: child.pid!, stop: () => void child.kill('SIGKILL') };
}
