/**
 * Starts what the overhead scenarios measure, each in its own process on 127.0.0.1:
 *   - fake upstreams: region A's node (also the `direct` baseline), region B's node, a canary sink;
 *   - `raw`: the node:http + undici `Pool.stream()` pass-through to region A's node;
 *   - `nginx`: native reverse proxy to region A's node, when installed;
 *   - `gateway`: the real gateway, full configuration, shadow off;
 *   - `gateway+shadow`: the same with 5 % of requests mirrored to the canary.
 * `close()` stops everything, also after a failure half-way through starting.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startService, type Service } from '../lib/proc.ts';
import { BENCH_KEY, benchConfig, type Topology } from './config.ts';
import type { UpstreamKnobs } from './fake-upstream.ts';
import { nginxPath, startNginx } from './nginx.ts';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/lifecycle/gc-tuning.ts';

/** `gateway-b`: another build of the gateway (BENCH_GATEWAY_B=/copy/gateway/src/main.ts), shadow off, for A/B runs. */
export type TargetName = 'direct' | 'nginx' | 'raw' | 'gateway' | 'gateway+shadow' | 'gateway-b';

export interface Target {
  name: TargetName;
  url: string;
  /** The process whose CPU and RSS are charged to this target. */
  pid: number;
  /** Its stdout and stderr (the gateways'). */
  logFile?: string;
}

export interface Upstream {
  service: Service;
  url: string;
  urls: string[];
}

export async function startUpstream(dir: string, name: string, opts: { ports?: number; slots?: number } = {}): Promise<Upstream> {
  const service = await startService({
    name,
    script: 'bench/gateway/fake-upstream.ts',
    args: ['--port', '0', '--node-id', name, '--ports', String(opts.ports ?? 1), '--slots', String(opts.slots ?? 256)],
    logFile: join(dir, `${name}.log`),
    readyMsg: 'listening',
  });
  return { service, url: String(service.ready['url']), urls: service.ready['urls'] as string[] };
}

export async function setKnobs(urls: string[], knobs: Partial<UpstreamKnobs>): Promise<void> {
  await Promise.all(
    urls.map(async (u) => {
      const r = await request(`${u}/__bench/config`, { method: 'POST', body: JSON.stringify(knobs), headers: { 'content-type': 'application/json' } });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`upstream ${u} refused knobs`);
    }),
  );
}

export interface UpstreamStats {
  connections: number;
  active: number;
  requests: number;
  completed: number;
  aborted: number;
}

export async function upstreamStats(url: string): Promise<UpstreamStats> {
  const r = await request(`${url}/__bench/stats`);
  return (await r.body.json()) as UpstreamStats;
}

export interface GatewayStart {
  dir: string;
  name: string;
  topology: Topology;
  /** A whole config instead of the benchmark one built from `topology`. */
  config?: Record<string, unknown>;
  shadowRate?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Entry point of the gateway build to run (default: this repo's dist/ from `npm run build`, or BENCH_GATEWAY_MAIN). */
  main?: string;
}

export async function startBenchGateway(o: GatewayStart): Promise<{ service: Service; url: string; logFile: string }> {
  const configPath = join(o.dir, `${o.name}.json`);
  const config = o.config ?? benchConfig(o.topology, { storeDir: join(o.dir, `${o.name}-canary`), ...(o.shadowRate ? { shadowRate: o.shadowRate } : {}) });
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logFile = join(o.dir, `${o.name}.log`);
  const service = await startService({
    name: o.name,
    // BENCH_GATEWAY_MAIN points at another build of the gateway (an A/B copy) for before/after runs.
    script: o.main ?? process.env['BENCH_GATEWAY_MAIN'] ?? 'dist/gateway/src/main.js',
    args: ['--config', configPath, '--port', '0', '--host', '127.0.0.1', '--no-watch'],
    env: { LOG_LEVEL: 'info' },
    logFile,
    readyMsg: 'listening',
    readyTimeoutMs: 60_000,
    nodeFlags: [...GATEWAY_NODE_FLAGS, ...(o.nodeFlags ?? [])],
  });
  return { service, url: String(service.ready['url']), logFile };
}

export interface TargetSet {
  targets: Target[];
  upstreams: Upstream[];
  /** Region A's node: the `direct` target. */
  primary: Upstream;
  canary: Upstream;
  notes: string[];
  configure(knobs: Partial<UpstreamKnobs>): Promise<void>;
  close(): Promise<void>;
}

export interface TargetOptions {
  dir: string;
  names: TargetName[];
  shadowRate?: number;
  /** Node flags for the raw proxy and both gateways (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** The gateway's entry point (default: the dist/ build; tests run the sources). */
  gatewayMain?: string;
}

/** BENCH_GATEWAY_B_NODE_FLAGS: node flags for the B build only (an A/B of V8 settings, e.g. heap sizes). */
const B_FLAGS = (process.env['BENCH_GATEWAY_B_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);

export async function startTargets(o: TargetOptions): Promise<TargetSet> {
  const services: Service[] = [];
  const notes: string[] = [];
  const track = <T extends { service: Service } | Service>(p: Promise<T>): Promise<T> =>
    p.then((x) => {
      services.push('service' in x ? x.service : x);
      return x;
    });
  try {
    // Independent processes start in parallel: upstreams first, then everything in front of them.
    const settled = await Promise.allSettled(
      [startUpstream(o.dir, 'upstream-a'), startUpstream(o.dir, 'upstream-b'), startUpstream(o.dir, 'upstream-canary')].map(track),
    );
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    const [a, b, canary] = settled.map((x) => (x as PromiseFulfilledResult<Upstream>).value) as [Upstream, Upstream, Upstream];
    const topology: Topology = {
      regions: [
        { name: 'A', urls: [a.url] },
        { name: 'B', urls: [b.url] },
      ],
      canaryUrl: canary.url,
    };
    const startOne = async (name: TargetName): Promise<Target | undefined> => {
      if (name === 'direct') return { name, url: a.url, pid: a.service.pid };
      if (name === 'raw') {
        const s = await track(
          startService({
            name: 'raw',
            script: 'bench/gateway/raw-proxy.ts',
            args: ['--upstream', a.url, '--connections', '256'],
            logFile: join(o.dir, 'raw.log'),
            readyMsg: 'listening',
            ...(o.nodeFlags ? { nodeFlags: o.nodeFlags } : {}),
          }),
        );
        return { name, url: String(s.ready['url']), pid: s.pid };
      }
      if (name === 'nginx') {
        const bin = nginxPath();
        if (!bin) {
          notes.push('nginx is not installed: the native reverse-proxy baseline was skipped (apt-get install nginx-light to add it).');
          return undefined;
        }
        try {
          const n = await track(startNginx(bin, a.url, o.dir));
          return { name, url: n.url, pid: n.service.pid };
        } catch (err) {
          notes.push(`nginx failed to start (${(err as Error).message}); its baseline was skipped.`);
          return undefined;
        }
      }
      const shadow = name === 'gateway+shadow';
      const b = name === 'gateway-b';
      const g = await track(
        startBenchGateway({
          dir: o.dir,
          name: shadow ? 'gateway-shadow' : b ? 'gateway-b' : 'gateway',
          topology,
          ...(b ? { main: process.env['BENCH_GATEWAY_B']! } : o.gatewayMain ? { main: o.gatewayMain } : {}),
          ...(shadow ? { shadowRate: o.shadowRate ?? 0.05 } : {}),
          nodeFlags: [...(o.nodeFlags ?? []), ...(b ? B_FLAGS : [])],
        }),
      );
      return { name, url: g.url, pid: g.service.pid, logFile: g.logFile };
    };
    const started = await Promise.allSettled(o.names.map(startOne));
    const bad = started.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (bad) throw bad.reason;
    const targets = started.map((x) => (x as PromiseFulfilledResult<Target | undefined>).value).filter((t): t is Target => t !== undefined);
    const upstreams = [a, b, canary];
    return {
      targets,
      upstreams,
      primary: a,
      canary,
      notes,
      configure: (knobs) =>
        setKnobs(
          upstreams.map((u) => u.url),
          knobs,
        ),
      close: async () => {
        // Generous grace: a profiled process writes its profile on exit, and a gateway with shadow on drains its judge first.
        await Promise.all(services.map((s) => s.stop(10_000)));
      },
    };
  } catch (err) {
    await Promise.all(services.map((s) => s.kill()));
    throw err;
  }
}

/**
 * Every target must answer 200 with the audio before anything is measured: exactly `size` bytes
 * from the upstream and the raw proxy; a streamed WAV of at least that much audio from a gateway,
 * which resamples every answer to its one output rate (24 kHz) before encoding it.
 */
export async function sanityCheck(targets: Target[], body: string, size: number): Promise<void> {
  for (const t of targets) {
    const r = await request(`${t.url}/v1/synthesize`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
    });
    const buf = Buffer.from(await r.body.arrayBuffer());
    const whole = t.name.startsWith('gateway') ? buf.subarray(0, 4).toString('latin1') === 'RIFF' && buf.length >= size : buf.length === size;
    if (r.statusCode !== 200 || !whole)
      throw new Error(`sanity check failed for ${t.name}: status ${r.statusCode}, ${buf.length} of ${size} bytes: ${buf.subarray(0, 200).toString()}`);
  }
}
