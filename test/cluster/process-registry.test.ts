/**
 * The one process registry (cluster supervisor, test harness, benches): a child still running
 * when its parent exits is killed, and an exited child leaves the registry.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { track, tracked } from '../../cluster/src/process-registry.ts';
import { REPO_ROOT } from '../harness/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('process registry', () => {
  it('kills the children still running when the parent exits', async () => {
    const script = `
      import { spawn } from 'node:child_process';
      import { track } from './cluster/src/process-registry.ts';
      const child = track(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
      console.log(child.pid);
      setTimeout(() => process.exit(0), 300);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    const pid = Number(r.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !alive(pid);
      if (!gone) await new Promise((res) => setTimeout(res, 100));
    }
    expect(gone).toBe(true);
  }, 90_000);

  it('forgets a child once it has exited', async () => {
    const child = track(spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }));
    expect(tracked()).toContain(child);
    await new Promise((res) => child.once('exit', res));
    expect(tracked()).not.toContain(child);
  });
});
