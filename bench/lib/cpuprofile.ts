/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time by function and by
 * source file, so the benchmark can say what a request costs, not only how much.
 *
 *   npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [top]
 * @module
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

function shortUrl(url: string): string {
  const i = url.indexOf('/node_modules/');
  if (i >= 0) {
    const rest = url.slice(i + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(gateway|bench|node-runtime|test)\/(.*)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  if (url.startsWith('node:')) return url;
  return url === '' ? '(native)' : url.split('/').slice(-2).join('/');
}

/** Self time per function and per file/package, highest first. */
export function summarize(file: string, top = 25): { byFunction: HotSpot[]; byFile: HotSpot[]; totalMs: number; idleShare: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = shortUrl(cf.url);
    const key = `${cf.functionName || '(anonymous)'} ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    files.set(where, (files.get(where) ?? 0) + us);
  }
  const busy = total - idle;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { byFunction: list(fn), byFile: list(files), totalMs: total / 1000, idleShare: total > 0 ? idle / total : 0 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarize(process.argv[2]!, Number(process.argv[3] ?? 30));
  console.log(`total ${s.totalMs.toFixed(0)} ms, idle ${(s.idleShare * 100).toFixed(1)} %`);
  console.log('\nby file/package (self time, share of busy):');
  for (const h of s.byFile) console.log(`${(h.share * 100).toFixed(1).padStart(6)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`);
  console.log('\nby function:');
  for (const h of s.byFunction) console.log(`${(h.share * 100).toFixed(1).padStart(6)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`);
}
