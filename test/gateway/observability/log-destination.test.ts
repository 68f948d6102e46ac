import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const logger = fileURLToPath(new URL('../../../gateway/src/observability/logger.ts', import.meta.url));

const children: ReturnType<typeof spawn>[] = [];
// A failing test must not leave its child logging forever.
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Runs `body` in a child process with the gateway's default logger as `log`; its stdout is ours. */
function child(body: string) {
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `const { createLogger } = await import(${JSON.stringify(logger)}); const log = createLogger(); ${body}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  );
  children.push(p);
  return p;
}

function exited(p: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.once('exit', (code) => resolve({ code, stderr })));
}

describe('default log destination (stdout, one write per event-loop turn)', () => {
  it('writes every line, in order, including those logged just before process.exit', async () => {
    const p = child(
      `for (let i = 0; i < 5000; i++) log.info({ i }, 'line'); setImmediate(() => { log.info({ i: 5000 }, 'line'); log.info({ i: 5001 }, 'line'); process.exit(0); });`,
    );
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const { code, stderr } = await exited(p);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const seq = out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seq).toEqual(Array.from({ length: 5002 }, (_, i) => i));
  }, 30_000);

  it('keeps the process alive when the reader goes away (EPIPE), as pino does', async () => {
    const p = child(
      `let i = 0; const t = setInterval(() => { for (let k = 0; k < 200; k++) log.info({ i: i++ }, 'line'); if (i >= 40000) { clearInterval(t); process.stderr.write('survived'); } }, 1);`,
    );
    p.stdout!.once('data', () => p.stdout!.destroy());
    const { code, stderr } = await exited(p);
    expect(stderr).toBe('survived');
    expect(code).toBe(0);
  }, 30_000);
});
