/**
 * `npm start -- --gateways 2` end to end: the real launcher with real node runtimes, two real
 * gateways, the local balancer and a local redis-server it starts. The ready line lists the
 * balancer first, then each gateway; requests through the balancer reach both gateways, which
 * share one Redis; SIGTERM stops everything, redis-server included.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText, metricValue } from '../harness/index.ts';
import { REPO_ROOT } from '../node-runtime/support/runtime-process.ts';
import { hasRedis } from '../support/redis-server.ts';

let launcher: ChildProcess | undefined;
const lines: string[] = [];
let urls: string[] = [];

/** One POST on a connection of its own (no keep-alive), so the balancer's round robin shows. */
function postOnce(url: string, body: string): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { authorization: 'Bearer demo-pro', 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function waitForLine(match: RegExp, timeoutMs: number): Promise<string> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const line = lines.find((l) => match.test(l));
    if (line) return line;
    if (performance.now() > until || launcher?.exitCode !== null)
      throw new Error(`no line matching ${match} within ${timeoutMs} ms; got:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start -- --gateways', () => {
  it('refuses a count that is not 1 to 16 with exit 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cluster/src/main.ts', '--gateways', 'two'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--gateways must be a whole number from 1 to 16');
  });
});

describe.skipIf(!hasRedis())('npm start -- --gateways 2', () => {
  beforeAll(async () => {
    launcher = spawn(process.execPath, ['--import', 'tsx', 'cluster/src/main.ts', '--gateways', '2'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: launcher.stdout! }).on('line', (l) => lines.push(l));
    launcher.stderr!.resume();
    const ready = await waitForLine(/ready: http:\/\/127\.0\.0\.1:\d+/, 200_000);
    await waitForLine(/^playground: /, 5_000);
    urls = [...ready.matchAll(/http:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
  }, 210_000);

  afterAll(() => {
    if (launcher && launcher.exitCode === null) launcher.kill('SIGKILL');
  });

  it('prints the balancer URL, then each gateway’s, on the ready line', () => {
    expect(urls).toHaveLength(3);
    expect(new Set(urls).size).toBe(3);
    expect(lines.find((l) => l.includes('ready:'))).toMatch(/2 gateways sharing redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('serves through the balancer, spreading requests over both gateways on one shared store', async () => {
    const [balancer, ...gateways] = urls;
    for (let i = 0; i < 6; i++) {
      const res = await postOnce(`${balancer}/v1/synthesize`, JSON.stringify({ text: `Through the balancer ${i}.` }));
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/audio\/wav/);
    }
    for (const url of gateways) {
      const metrics = await getText(`${url}/metrics`);
      expect(metricValue(metrics, 'voxgate_gateway_shared_state_up')).toBe(1);
      expect(metricValue(metrics, 'voxgate_gateway_shared_state_replicas')).toBe(2);
      // Round robin over connections: each gateway admitted some of the six, through Redis.
      expect(metricValue(metrics, 'voxgate_gateway_rate_limit_decisions_total', { source: 'shared' })).toBeGreaterThan(0);
    }
  });

  it('stops the gateways, the nodes and redis-server on SIGTERM and exits 0', async () => {
    const pid = launcher!.pid!;
    const exited = new Promise<number | null>((resolve) => launcher!.once('exit', (code) => resolve(code)));
    launcher!.kill('SIGTERM');
    expect(await exited).toBe(0);
    // No process of this launcher is left: the children were its own (they exit on IPC loss too).
    const left = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  }, 30_000);
});
