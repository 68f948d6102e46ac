/**
 * Runs the hostile-client process (scenario 8) and returns its records.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostileRecord } from './hostile-client.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface HostileSpec {
  target: string;
  key: string;
  slow_key?: string;
  generated: number;
  seed: number;
  slow: number;
  slow_gap_ms: number;
  slow_bytes: number;
  concurrency: number;
}

/** Resolves with every case's record once the process exits; it is killed after `limitMs`. */
export function runHostile(input: HostileSpec, limitMs = 180_000): { epochMs: number; done: Promise<HostileRecord[]> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-hostile-'));
  const results = path.join(dir, 'records.jsonl');
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({ ...input, results_file: results }));
  const epochMs = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/chaos/load/hostile-client.ts', specFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watchdog = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const done = new Promise<HostileRecord[]>((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(watchdog);
      process.off('exit', killOnExit);
      try {
        if (code !== 0) throw new Error(`hostile client exited with ${code}: ${stderr}`);
        resolve(
          readFileSync(results, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as HostileRecord),
        );
      } catch (error) {
        reject(error as Error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
  return { epochMs, done };
}
