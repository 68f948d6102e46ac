/**
 * `npm start` end to end: the real supervisor with real node runtimes and a real gateway on
 * 127.0.0.1. Run as `node --import tsx cluster/src/main.ts` (what `npm start` runs) so the test
 * owns the supervisor's pid directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../node-runtime/src/audio/wav.ts';
import { REPO_ROOT } from '../node-runtime/support/runtime-process.ts';

let supervisor: ChildProcess;
const lines: string[] = [];
let gatewayUrl = '';

/** Direct children of a pid, from /proc (Linux). */
function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForLine(match: RegExp, timeoutMs: number, from = 0): Promise<string> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const line = lines.slice(from).find((l) => match.test(l));
    if (line) return line;
    if (performance.now() > until) throw new Error(`no line matching ${match} within ${timeoutMs} ms; got:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  supervisor = spawn(process.execPath, ['--import', 'tsx', 'cluster/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  createInterface({ input: supervisor.stdout! }).on('line', (l) => lines.push(l));
  supervisor.stderr!.resume();
  const ready = await waitForLine(/ready: http:\/\/127\.0\.0\.1:\d+/, 90_000);
  await waitForLine(/^playground: /, 5_000); // the last line of the ready block
  gatewayUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(ready)![1]!;
}, 100_000);

afterAll(async () => {
  if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
});

describe('npm start', () => {
  it('says which engine serves which role, then prints the demo keys and a curl command', () => {
    expect(lines.some((l) => /^primary\s+flite-hd\s+engine flite/.test(l))).toBe(true);
    expect(lines.some((l) => /^fallback\s+flite-fast\s+engine flite/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('demo-free (free)') && l.includes('demo-enterprise (enterprise)'))).toBe(true);
    expect(lines.some((l) => l.startsWith('try: curl'))).toBe(true);
  });

  it('synthesizes through the gateway with each demo key', async () => {
    for (const key of ['demo-free', 'demo-pro', 'demo-enterprise']) {
      const res = await fetch(`${gatewayUrl}/v1/synthesize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `Hello from the ${key} plan.` }),
      });
      expect(res.status, key).toBe(200);
      expect(res.headers.get('x-region')).toMatch(/^cn-(north|south)-1$/);
      expect(decodeWav(new Uint8Array(await res.arrayBuffer())).durationS).toBeGreaterThan(0.5);
    }
  });

  it('restarts a node that crashes, and logs it', async () => {
    const nodes = childrenOf(supervisor.pid!).filter((c) => c.cmd.includes('node-runtime/src/main.ts'));
    expect(nodes).toHaveLength(4);
    const victim = nodes.find((n) => n.cmd.includes('--node-id cn-south-1-b'))!;
    const from = lines.length;
    process.kill(victim.pid, 'SIGKILL');
    await waitForLine(/cn-south-1-b exited \(SIGKILL\); restarting in \d+ ms/, 10_000, from);
    await waitForLine(/cn-south-1-b is back/, 60_000, from);
    const after = childrenOf(supervisor.pid!).filter((c) => c.cmd.includes('--node-id cn-south-1-b'));
    expect(after).toHaveLength(1);
    expect(after[0]!.pid).not.toBe(victim.pid);
  }, 80_000);

  it('stops every child on SIGTERM and exits 0, leaving no process behind', async () => {
    // Only our processes: tsx also runs an esbuild service as a child of the supervisor.
    const kids = childrenOf(supervisor.pid!)
      .filter((c) => /node-runtime\/src\/main\.ts|gateway\/src\/main\.ts/.test(c.cmd))
      .map((c) => c.pid);
    expect(kids.length).toBe(5);
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    supervisor.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(kids.filter(alive)).toEqual([]);
  }, 30_000);
});
