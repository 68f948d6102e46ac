import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('../../fixtures/gc/pretenure-probe.ts', import.meta.url));

async function oldGrowthMb(mode: 'tuned' | 'default'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', probe, mode], { timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return (JSON.parse(stdout) as { oldGrowthMb: number }).oldGrowthMb;
}

describe('gc tuning (lifecycle/gc-tuning.ts)', () => {
  it('keeps short-lived garbage out of the old generation after its allocation site once made long-lived objects', async () => {
    const [untuned, tuned] = await Promise.all([oldGrowthMb('default'), oldGrowthMb('tuned')]);
    // The control shows the hazard is real on this V8: 60+ MB of garbage went straight to old space.
    expect(untuned).toBeGreaterThan(30);
    expect(tuned).toBeLessThan(untuned / 3);
  }, 90_000);
});
