/**
 * `gateway` against `gateway-b` (BENCH_GATEWAY_B, BENCH_GATEWAY_B_NODE_FLAGS) or against
 * `gateway+shadow` in many short alternating windows of one of the overhead scenarios, both under
 * `--trace-gc`: per window, CPU per request (whole process and main thread), p50/p99, peak RSS,
 * and how many scavenges and full mark-compacts each ran. One window on this shared machine varies by ±40 %; the mean of many,
 * with the GC counts beside them, tells a real difference from noise. It found the full-GC storms
 * behind lifecycle/gc-tuning.ts.
 *
 *   BENCH_GATEWAY_B=$PWD/dist/gateway/src/main.js BENCH_GATEWAY_B_NODE_FLAGS='--some-v8-flag' \
 *     node --import tsx bench/gateway/gc-windows.ts --load paced|sat-c32|sat-c128 [--windows 6] [--seconds 4]
 *   node --import tsx bench/gateway/gc-windows.ts --against shadow --load sat-c32
 *
 * Everything runs on 127.0.0.1 and is stopped at the end.
 * @module
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Progress } from '../lib/progress.ts';
import { mean } from '../lib/stats.ts';
import { stopAll } from '../lib/proc.ts';
import { alternatingSteps, alternatingWindows } from './alternating.ts';
import { benchBodies } from './bodies.ts';
import { SCENARIOS, type Scenario } from './overhead.ts';
import { startTargets, type Target, type TargetName } from './targets.ts';

const { values } = parseArgs({
  options: {
    load: { type: 'string', default: 'paced' },
    windows: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '4' },
    against: { type: 'string', default: 'b' },
  },
});
const scenario = SCENARIOS.find((s) => s.id === values.load);
const other: TargetName = values.against === 'shadow' ? 'gateway+shadow' : 'gateway-b';
if (!scenario || (other === 'gateway-b' && !process.env['BENCH_GATEWAY_B'])) {
  process.stderr.write(
    `usage: --load ${SCENARIOS.map((s) => s.id).join('|')} [--against b|shadow]; b needs BENCH_GATEWAY_B (and BENCH_GATEWAY_B_NODE_FLAGS for its flags)\n`,
  );
  process.exit(2);
}
const load: Scenario = scenario;
const windows = Number(values.windows);
const seconds = Number(values.seconds);
const dir = mkdtempSync(join(tmpdir(), 'voxgate-gc-windows-'));
const bodies = benchBodies();

/** GC events so far in each target's log, read from where the last call stopped (the log also holds every access line). */
const seen = new Map<string, { offset: number; scavenges: number; markCompacts: number }>();
async function gcCounts(target: Target): Promise<Record<string, number>> {
  const file = target.logFile!;
  const s = seen.get(file) ?? { offset: 0, scavenges: 0, markCompacts: 0 };
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(size - s.offset);
    readSync(fd, buf, 0, buf.length, s.offset);
    // Whole lines only: a line still being written is counted next time.
    const text = buf.toString('utf8', 0, buf.lastIndexOf(10) + 1);
    s.offset += Buffer.byteLength(text);
    s.scavenges += text.match(/: Scavenge /g)?.length ?? 0;
    s.markCompacts += text.match(/: Mark-Compact /g)?.length ?? 0;
  } finally {
    closeSync(fd);
  }
  seen.set(file, s);
  return { scavenges: s.scavenges, markCompacts: s.markCompacts };
}

const f = (x: number, d = 3) => x.toFixed(d);
const set = await startTargets({ dir, names: ['gateway', other], nodeFlags: ['--trace-gc'] });
try {
  await set.configure(load.knobs);
  const opts = { windows, seconds, warmupS: 2, bodies, counters: gcCounts };
  const rows = await alternatingWindows(set.targets, load, { ...opts, progress: new Progress(alternatingSteps(set.targets.length, opts)) });
  for (const r of rows)
    process.stdout.write(
      `${r.index} ${r.target.padEnd(14)} req/s ${f(r.rps, 0)}  p50 ${f(r.p50, 2)}  p99 ${f(r.p99, 2)}  CPU ms/req ${f(r.cpu)} (main ${f(r.main)})  RSS ${f(r.rss, 0)} MB  scavenges ${r.counted['scavenges']}  mark-compacts ${r.counted['markCompacts']}\n`,
    );
  for (const t of set.targets) {
    const rs = rows.filter((r) => r.target === t.name);
    const sum = (k: string) => rs.reduce((a, r) => a + (r.counted[k] ?? 0), 0);
    process.stdout.write(
      `${t.name.padEnd(14)} mean CPU ms/req ${f(mean(rs.map((r) => r.cpu)))} (main ${f(mean(rs.map((r) => r.main)))})  req/s ${f(mean(rs.map((r) => r.rps)), 0)}  RSS ${f(mean(rs.map((r) => r.rss)), 0)} MB  scavenges ${sum('scavenges')}  mark-compacts ${sum('markCompacts')}\n`,
    );
  }
} finally {
  await set.close();
  await stopAll();
}
