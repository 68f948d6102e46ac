import { mkdtempSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTargets } from './gateway/targets.ts';
import { runLoad } from './lib/load.ts';
import { benchBodies } from './gateway/bodies.ts';
import { BENCH_KEY } from './gateway/config.ts';
import { summarize, inclusive } from './lib/cpuprofile.ts';

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'prof-'));
  const profDir = join(dir, 'prof');
  mkdirSync(profDir);
  const names = (process.env['TARGETS'] ?? 'gateway,gateway+shadow').split(',') as never[];
  const set = await startTargets({ dir, names, shadowRate: 0.05, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] });
  await set.configure({ size: 65536, delayMs: 0, jitterMs: 0 });
  const pids: Record<string, number> = {};
  for (const t of set.targets) {
    if (!names.includes(t.name as never)) continue;
    pids[t.name] = t.pid;
    const r = await runLoad({ url: t.url, path: '/v1/synthesize', connections: 32, durationS: Number(process.env['DUR'] ?? 8), bodies: benchBodies(), headers: { authorization: `Bearer ${BENCH_KEY}` } });
    console.log(t.name, 'rps', Math.round(r.rps), 'requests', r.requests);
  }
  await set.close();
  for (const [name, pid] of Object.entries(pids)) {
    const f = readdirSync(profDir).find((x) => x.includes(`.${pid}.0.`));
    if (!f) continue;
    const s = summarize(join(profDir, f), 45);
    console.log(`\n== ${name} total ${Math.round(s.totalMs)} ms`);
    for (const h of s.byFunction) console.log(JSON.stringify(h));
    if (process.env['INCL']) for (const h of inclusive(join(profDir, f), (w) => w.includes(process.env['INCL']!), 25)) console.log('incl', JSON.stringify(h));
  }
}
void main();
