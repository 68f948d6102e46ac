/**
 * Starts N node runtimes in M regions plus a gateway, all real processes on 127.0.0.1 with
 * ephemeral ports, optionally each node behind a fault proxy. `close()` stops everything it
 * started (also on failure, and on test-process exit via the process registry).
 *
 * @example
 * const cluster = await startCluster({ regions: [{ name: 'north', nodes: 2 }, { name: 'south', nodes: 2 }] });
 * try {
 *   const r = await synthesize(cluster.gateway.url, 'demo-pro', { text: 'hello' });
 *   await cluster.node('north-1').kill();
 * } finally {
 *   await cluster.close();
 * }
 * @module
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy } from './fault-proxy.ts';
import { getJson } from './client.ts';
import { ManagedProcess, startProcess } from './processes.ts';
import { baseConfig, deepMerge, type ConfigOverrides } from './config.ts';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/lifecycle/gc-tuning.ts';

export interface NodeOptions {
  slots?: number;
  queue?: number;
  modelsDir?: string;
  /** Config model ids this node serves at the gateway (default: all models). */
  models?: string[];
  /** Put a fault proxy in front (the gateway talks to the proxy). */
  proxy?: boolean;
  /**
   * Packs to load (`--models`) and wait for before the node counts as started. Default: flite and
   * flite-fast from `models/`, the sim packs from the sim fixtures, otherwise whatever the dir holds.
   */
  packs?: string[];
  /** Extra environment, e.g. the clock-skew shim via NODE_OPTIONS. */
  env?: Record<string, string>;
  /** The node's log level; at least `info`, which carries the "listening" line. */
  logLevel?: string;
}

export interface RegionSpec {
  name: string;
  priority?: number;
  /** Number of nodes, or one options object per node. */
  nodes: number | NodeOptions[];
}

export interface ClusterOptions {
  regions: RegionSpec[];
  node?: NodeOptions;
  /** Deep-merged over the harness's base gateway config. */
  gateway?: ConfigOverrides;
  /** Home region of the gateway (default: the first region). */
  home?: string;
  /** Start no gateway (benchmarks that call nodes directly or start their own). */
  noGateway?: boolean;
}

export class NodeHandle {
  constructor(
    readonly id: string,
    readonly region: string,
    readonly directUrl: string,
    readonly proc: ManagedProcess,
    readonly proxy: FaultProxy | undefined,
  ) {}
  /** What the gateway calls: the proxy when there is one. */
  get url(): string {
    return this.proxy?.url ?? this.directUrl;
  }
  kill(): Promise<void> {
    return this.proc.kill();
  }
  pause(): void {
    this.proc.pause();
  }
  resume(): void {
    this.proc.resume();
  }
  get fault(): FaultProxy {
    if (!this.proxy) throw new Error(`node ${this.id} has no fault proxy; start it with proxy: true`);
    return this.proxy;
  }
}

export class GatewayHandle {
  constructor(
    readonly proc: ManagedProcess,
    readonly url: string,
    readonly configPath: string,
  ) {}
  /** Rewrites the config file (the gateway notices the change) and optionally sends SIGHUP. */
  writeConfig(text: string, sighup = false): void {
    writeFileSync(this.configPath, text);
    if (sighup) this.proc.signal('SIGHUP');
  }
}

const DEFAULT_PACKS: Record<string, string[]> = {
  models: ['flite', 'flite-fast'],
  'test/fixtures/models/sim': ['sim-primary', 'sim-fallback'],
};

export async function startNode(id: string, region: string, opts: NodeOptions = {}): Promise<NodeHandle> {
  const dir = opts.modelsDir ?? 'models';
  const packs = opts.packs ?? DEFAULT_PACKS[dir];
  const { proc, ready } = await startProcess({
    name: `node ${id}`,
    script: 'node-runtime/src/main.ts',
    args: [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--node-id',
      id,
      '--region',
      region,
      '--models-dir',
      dir,
      '--slots',
      String(opts.slots ?? 2),
      '--queue',
      String(opts.queue ?? 8),
      ...(packs ? ['--models', packs.join(',')] : []),
      ...(opts.logLevel ? ['--log-level', opts.logLevel] : []),
    ],
    ...(opts.env ? { env: opts.env } : {}),
    readyMsg: 'listening',
    readyTimeoutMs: 60_000,
  });
  const url = String(ready!['url']);
  // "listening" can come before every pack is warm: wait until the node reports them all.
  const t0 = Date.now();
  for (;;) {
    let served: string[] = [];
    let isReady = false;
    try {
      const load = (await getJson(`${url}/v1/load`)) as { ready?: boolean; models?: { name: string }[] };
      served = (load.models ?? []).map((m) => m.name);
      isReady = load.ready === true;
    } catch {
      /* not answering yet */
    }
    if (isReady && (packs ?? []).every((p) => served.includes(p))) break;
    if (Date.now() - t0 > 60_000) {
      await proc.kill();
      throw new Error(`node ${id}: packs ${packs?.join(',')} not loaded within 60 s (serving: ${served.join(',')})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const proxy = opts.proxy ? await FaultProxy.start(url) : undefined;
  return new NodeHandle(id, region, url, proc, proxy);
}

export async function startGateway(config: object, opts: { region?: string; env?: Record<string, string> } = {}): Promise<GatewayHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'voxgate-gw-'));
  const configPath = join(dir, 'gateway.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const { proc, ready } = await startProcess({
    name: 'gateway',
    script: 'gateway/src/main.ts',
    nodeFlags: GATEWAY_NODE_FLAGS,
    args: ['--config', configPath, '--port', '0', '--host', '127.0.0.1', ...(opts.region ? ['--region', opts.region] : [])],
    readyMsg: 'listening',
    env: { LOG_LEVEL: 'info', ...opts.env },
  });
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  return new GatewayHandle(proc, String(ready!['url']), configPath);
}

export class Cluster {
  constructor(
    readonly nodes: NodeHandle[],
    readonly gatewayHandle: GatewayHandle | undefined,
    readonly config: Record<string, unknown>,
  ) {}
  get gateway(): GatewayHandle {
    if (!this.gatewayHandle) throw new Error('cluster started without a gateway');
    return this.gatewayHandle;
  }
  node(id: string): NodeHandle {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }
  region(name: string): NodeHandle[] {
    return this.nodes.filter((n) => n.region === name);
  }
  /** Stops the gateway, then every node and proxy. Safe to call twice. */
  async close(): Promise<void> {
    await this.gatewayHandle?.proc.stop(2_000);
    await Promise.all(this.nodes.map((n) => n.proc.kill()));
    await Promise.all(this.nodes.map((n) => n.proxy?.close()));
  }
}

/** One entry per node: ids `<region>-<n>`, each node's options over the cluster's defaults. */
export function nodeSpecs<T extends object>(
  regions: { name: string; nodes: number | T[] }[],
  defaults: T | undefined,
): { id: string; region: string; opts: T }[] {
  return regions.flatMap((r) => {
    const list = typeof r.nodes === 'number' ? Array.from({ length: r.nodes }, () => ({}) as T) : r.nodes;
    return list.map((n, i) => ({ id: `${r.name}-${i + 1}`, region: r.name, opts: { ...defaults, ...n } as T }));
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const specs = nodeSpecs<NodeOptions>(options.regions, options.node);
  const settled = await Promise.allSettled(specs.map((s) => startNode(s.id, s.region, s.opts)));
  const nodes = settled.filter((s): s is PromiseFulfilledResult<NodeHandle> => s.status === 'fulfilled').map((s) => s.value);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await new Cluster(nodes, undefined, {}).close();
    throw failed.reason;
  }
  const base = baseConfig();
  const allModels = (((options.gateway?.['models'] as unknown[]) ?? base['models']) as { id: string }[]).map((m) => m.id);
  const config = deepMerge(base, {
    region: options.home ?? options.regions[0]!.name,
    regions: options.regions.map((r, ri) => ({
      name: r.name,
      priority: r.priority ?? ri,
      nodes: specs
        .map((s, i) => ({ s, n: nodes[i]! }))
        .filter(({ s }) => s.region === r.name)
        .map(({ s, n }) => ({ id: s.id, url: n.url, models: s.opts.models ?? allModels })),
    })),
    ...(options.gateway ?? {}),
  });
  if (options.noGateway) return new Cluster(nodes, undefined, config);
  try {
    const gw = await startGateway(config);
    return new Cluster(nodes, gw, config);
  } catch (err) {
    await new Cluster(nodes, undefined, config).close();
    throw err;
  }
}

export { writeFileSync };
