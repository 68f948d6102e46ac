/**
 * Open-loop load in its own process: requests arrive as a Poisson process at `rate` per second
 * whatever the answers do (no coordinated omission), spread over weighted classes (e.g. one API
 * key per plan). Every request is recorded as [start ms since t0, latency ms, status, class];
 * status 0 is a transport error and -1 a request not sent because `maxInflight` was reached.
 * Bounded by `durationMs`; requests still open `graceMs` after the end are cut off.
 *
 * Argument: one JSON `OpenLoopSpec`. Output: one line `OLJSON {t0Epoch, records}`.
 * @module
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'undici';

export interface OpenLoopClass {
  label: string;
  key: string;
  weight: number;
  /** Extra request headers for this class (e.g. `x-region` to pick the home region). */
  headers?: Record<string, string>;
}

export interface OpenLoopSpec {
  url: string;
  path?: string;
  rate: number;
  durationMs: number;
  bodies: string[];
  classes: OpenLoopClass[];
  maxInflight?: number;
  timeoutMs?: number;
  graceMs?: number;
}

/** `degraded` is 1 when the answer carried `x-degraded` (a cheaper model or another region). */
export type OpenLoopRecord = [start: number, latency: number, status: number, cls: number, degraded: number];

export interface OpenLoopOutput {
  t0Epoch: number;
  records: OpenLoopRecord[];
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as OpenLoopSpec;
  const maxInflight = spec.maxInflight ?? 512;
  const agent = new Agent({ connections: maxInflight, keepAliveTimeout: 10_000 });
  const url = `${spec.url}${spec.path ?? '/v1/synthesize'}`;
  const total = spec.classes.reduce((s, c) => s + c.weight, 0);
  const records: OpenLoopRecord[] = [];
  const pending = new Set<Promise<void>>();
  let inflight = 0;
  let n = 0;
  const t0 = performance.now();
  const t0Epoch = Date.now();
  process.stdout.write(`OLSTART ${t0Epoch}\n`);
  const pickClass = () => {
    let x = Math.random() * total;
    for (let i = 0; i < spec.classes.length; i++) {
      x -= spec.classes[i]!.weight;
      if (x < 0) return i;
    }
    return spec.classes.length - 1;
  };
  const fire = () => {
    const cls = pickClass();
    const start = performance.now() - t0;
    if (inflight >= maxInflight) {
      records.push([start, 0, -1, cls, 0]);
      return;
    }
    inflight++;
    const body = spec.bodies[n++ % spec.bodies.length]!;
    const p = (async () => {
      let status = 0;
      let degraded = 0;
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.classes[cls]!.key}`, ...spec.classes[cls]!.headers },
          body,
          signal: AbortSignal.timeout(spec.timeoutMs ?? 30_000),
        });
        await res.body.dump({ limit: 64 * 1024 * 1024 });
        status = res.statusCode;
        if (res.headers['x-degraded'] !== undefined) degraded = 1;
      } catch {
        status = 0;
      }
      records.push([start, performance.now() - t0 - start, status, cls, degraded]);
      inflight--;
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  // Poisson arrivals, released by a 2 ms ticker (timers cannot fire every 1.5 ms reliably).
  let nextAt = 0;
  const draw = () => (-Math.log(1 - Math.random()) * 1000) / spec.rate;
  nextAt = draw();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now() - t0;
      while (nextAt <= now && nextAt < spec.durationMs) {
        fire();
        nextAt += draw();
      }
      if (now >= spec.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  const grace = new Promise<void>((r) => setTimeout(r, spec.graceMs ?? 10_000).unref());
  await Promise.race([Promise.allSettled([...pending]), grace]);
  await agent.destroy().catch(() => undefined);
  const out: OpenLoopOutput = { t0Epoch, records: records.map((r) => [Math.round(r[0] * 10) / 10, Math.round(r[1] * 100) / 100, r[2], r[3], r[4]]) };
  process.stdout.write(`OLJSON ${JSON.stringify(out)}\n`);
  process.exit(0);
}

/** Runs the open-loop client as a child process and resolves with its records. */
export function spawnOpenLoop(spec: OpenLoopSpec, cwd: string, onStart?: (t0Epoch: number) => void): Promise<OpenLoopOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/open-loop.ts', JSON.stringify(spec)], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let out = '';
    let err = '';
    let started = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!started) {
        const m = /OLSTART (\d+)/.exec(out);
        if (m) {
          started = true;
          onStart?.(Number(m[1]));
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.durationMs + (spec.graceMs ?? 10_000) + 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('OLJSON '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as OpenLoopOutput);
      else reject(new Error(`open-loop client exited ${code}: ${err.slice(-600)}`));
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
