/**
 * Closed-loop load from a separate process: `wrk -t1` when installed (Debian `apt-get install
 * wrk`), else autocannon 8 in a child process (bench/lib/autocannon-runner.ts; it costs more CPU
 * than wrk and reports latency at coarser resolution, which the summary notes).
 *
 * Both cycle through the same request bodies, POST with a bearer key, and report requests,
 * errors, non-2xx answers and p50/p90/p99 in ms. `thinkMs` adds an exponential think time per
 * connection (wrk `delay()`), which turns c connections into a paced load of about
 * c / (think + latency) requests a second without phase-locking the clients.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './proc.ts';

export interface LoadSpec {
  url: string;
  path?: string;
  connections: number;
  durationS: number;
  bodies: string[];
  headers?: Record<string, string>;
  /** Mean exponential think time per connection between requests (ms). */
  thinkMs?: number;
  timeoutS?: number;
}

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
  requests: number;
  rps: number;
  durationS: number;
  bytes: number;
  /** Transport errors (connect, read, write, timeout). */
  errors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

let wrkPath: string | null | undefined;
export function hasWrk(): boolean {
  if (wrkPath === undefined) {
    try {
      wrkPath = execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
    } catch {
      wrkPath = null;
    }
  }
  return wrkPath !== null && process.env['BENCH_LOAD'] !== 'autocannon';
}

export function loadTool(): 'wrk' | 'autocannon' {
  return hasWrk() ? 'wrk' : 'autocannon';
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function wrkScript(spec: LoadSpec): string {
  const headers = { 'content-type': 'application/json', ...spec.headers };
  const path = spec.path ?? '/v1/synthesize';
  return `
local bodies = { ${spec.bodies.map(luaString).join(',\n')} }
local headers = { ${Object.entries(headers)
    .map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`)
    .join(', ')} }
local reqs = {}
local i = 0
function init(args)
  for k, b in ipairs(bodies) do reqs[k] = wrk.format("POST", ${luaString(path)}, headers, b) end
  i = math.random(#reqs)
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
${spec.thinkMs ? `function delay() return math.floor(-${spec.thinkMs} * math.log(1 - math.random())) end` : ''}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`;
}

function runChild(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.slice(-800)} ${out.slice(-400)}`));
    });
  });
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'voxgate-wrk-'));
  try {
    const script = join(dir, 'load.lua');
    writeFileSync(script, wrkScript(spec));
    const out = await runChild(
      wrkPath!,
      ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, `--timeout`, `${spec.timeoutS ?? 10}s`, '-s', script, spec.url],
      (spec.durationS + 30) * 1000,
    );
    const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
    if (!line) throw new Error(`wrk printed no summary: ${out.slice(-500)}`);
    const j = JSON.parse(line.slice(8)) as Record<string, number>;
    const durationS = j['duration_us']! / 1e6;
    return {
      tool: 'wrk',
      requests: j['requests']!,
      rps: j['requests']! / durationS,
      durationS,
      bytes: j['bytes']!,
      errors: j['connect']! + j['read']! + j['write']! + j['timeout']!,
      non2xx: j['status']!,
      p50: j['p50']! / 1000,
      p90: j['p90']! / 1000,
      p99: j['p99']! / 1000,
      max: j['max']! / 1000,
      mean: j['mean']! / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const out = await runChild(process.execPath, ['--import', 'tsx', 'bench/lib/autocannon-runner.ts', JSON.stringify(spec)], (spec.durationS + 30) * 1000);
  const line = out.split('\n').find((l) => l.startsWith('ACJSON '));
  if (!line) throw new Error(`autocannon printed no summary: ${out.slice(-500)}`);
  return JSON.parse(line.slice(7)) as LoadResult;
}

/** Runs one load window and returns its summary. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return hasWrk() ? runWrk(spec) : runAutocannon(spec);
}
