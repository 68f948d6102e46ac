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

/**
 * Inclusive time (self + callees) per function whose file matches `filter`, counting a
 * function once per stack even when it recurses: what each stage of a request path costs.
 */
export function inclusive(file: string, filter: (where: string) => boolean, top = 30): HotSpot[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const subtree = new Map<number, number>();
  const total = (id: number): number => {
    const cached = subtree.get(id);
    if (cached !== undefined) return cached;
    const n = byId.get(id)!;
    let t = self.get(id) ?? 0;
    for (const c of n.children ?? []) t += total(c);
    subtree.set(id, t);
    return t;
  };
  const keyOf = (n: ProfileNode) => {
    const where = shortUrl(n.callFrame.url);
    return filter(where) ? `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}` : undefined;
  };
  const acc = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) if (byId.get(id)!.callFrame.functionName !== '(idle)') busy += us;
  const walk = (id: number, active: Set<string>) => {
    const n = byId.get(id)!;
    const key = keyOf(n);
    const entered = key !== undefined && !active.has(key);
    if (entered) {
      acc.set(key, (acc.get(key) ?? 0) + total(id));
      active.add(key);
    }
    for (const c of n.children ?? []) walk(c, active);
    if (entered) active.delete(key);
  };
  const root = p.nodes[0]!;
  walk(root.id, new Set());
  return [...acc.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
}

/** Buckets for "what costs what": first match wins; `where` is shortUrl(), `fn` the function name. */
const BUCKETS: { name: string; test: (where: string, fn: string) => boolean }[] = [
  {
    name: 'startup (module loading, config)',
    test: (w) => /modules\/|cjs-module-lexer|^tsx$|^esbuild$|^yaml$|bootstrap\/realm|gateway\/src\/config\//.test(w),
  },
  { name: 'garbage collection', test: (_w, f) => f === '(garbage collector)' },
  {
    name: 'socket syscalls (writev/read)',
    test: (w, f) => w === '(native)' && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeString|onStreamRead|shutdown|close)$/.test(f),
  },
  {
    name: 'web Request/Headers/streams/AbortSignal (Node fetch internals)',
    test: (w) => /deps\/undici|webstreams|js_transferable|abort_controller|event_target|internal\/blob|internal\/url/.test(w),
  },
  { name: 'undici client (upstream call)', test: (w) => w === 'undici' },
  {
    name: 'node:http server + net + streams',
    test: (w) => /^node:(_http|net|internal\/streams|internal\/stream_base|stream|events|internal\/http|buffer|internal\/buffer)/.test(w),
  },
  { name: 'Hono + @hono/node-server', test: (w) => w === 'hono' || w === '@hono/node-server' },
  { name: 'breaker (opossum)', test: (w) => w === 'opossum' || w.startsWith('gateway/src/layers/breaker') },
  { name: 'metrics (prom-client)', test: (w) => w === 'prom-client' || w === 'tdigest' || w === 'bintrees' },
  {
    name: 'logging (pino)',
    test: (w) =>
      /^(pino|sonic-boom|fast-redact|pino-std-serializers|quick-format-unescaped|atomic-sleep|on-exit-leak-free|thread-stream|safe-stable-stringify)$/.test(w),
  },
  { name: 'validation (zod)', test: (w) => w === 'zod' },
  { name: 'crypto (key hash, trace ids, sampling hash)', test: (w) => w.startsWith('node:internal/crypto') },
  {
    name: 'canary / shadow (main thread)',
    test: (w) => w.startsWith('gateway/src/canary') || w.startsWith('gateway/src/request-path/shadow') || w === 'better-sqlite3' || w === 'piscina',
  },
  { name: 'gateway code (admit, plan, layers, dispatch, record)', test: (w) => w.startsWith('gateway/') },
  { name: 'promises, timers, microtasks', test: (w, f) => /task_queues|internal\/timers|^node:timers|async_hooks/.test(w) || f === 'runMicrotasks' },
  { name: 'other native / V8 (program, JSON, …)', test: (w) => w === '(native)' },
];

export interface Bucket {
  name: string;
  selfMs: number;
  /** Share of busy time excluding startup. */
  share: number;
}

/** Self time grouped into cost buckets; shares exclude idle and startup time. */
export function buckets(file: string): Bucket[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const acc = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') continue;
    const where = shortUrl(cf.url);
    const b = BUCKETS.find((x) => x.test(where, cf.functionName))?.name ?? 'other JS (node internals, other packages)';
    acc.set(b, (acc.get(b) ?? 0) + us);
  }
  const startup = acc.get(BUCKETS[0]!.name) ?? 0;
  const busy = [...acc.values()].reduce((a, b) => a + b, 0) - startup;
  return [...acc.entries()]
    .filter(([n]) => n !== BUCKETS[0]!.name)
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarize(process.argv[2]!, Number(process.argv[3] ?? 30));
  console.log(`total ${s.totalMs.toFixed(0)} ms, idle ${(s.idleShare * 100).toFixed(1)} %`);
  console.log('\nby file/package (self time, share of busy):');
  for (const h of s.byFile) console.log(`${(h.share * 100).toFixed(1).padStart(6)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`);
  console.log('\nby function:');
  for (const h of s.byFunction) console.log(`${(h.share * 100).toFixed(1).padStart(6)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`);
  console.log('\nbuckets (share of busy time, startup excluded):');
  for (const b of buckets(process.argv[2]!)) console.log(`${(b.share * 100).toFixed(1).padStart(6)} %  ${b.selfMs.toFixed(0).padStart(7)} ms  ${b.name}`);
  console.log('\ninclusive, gateway/ functions:');
  for (const h of inclusive(process.argv[2]!, (w) => w.startsWith('gateway/'), Number(process.argv[3] ?? 30)))
    console.log(`${(h.share * 100).toFixed(1).padStart(6)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}`);
}
