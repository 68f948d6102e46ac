/**
 * A chaos cluster: node runtimes serving simulator packs in several regions, each behind a
 * `ChaosProxy` (so any fault can be switched on at any time, and a node restarted on a new port
 * stays reachable at the same address), plus one or two gateways with different home regions.
 * Built from the shared harness (`startNode`, `startGateway`, `nodeSpecs`, `baseConfig`); `close()` stops
 * everything it started, and the harness's process registry kills leftovers on exit.
 * @module
 */
import {
  baseConfig,
  deepMerge,
  nodeSpecs,
  startGateway,
  startNode,
  type GatewayHandle,
  type ManagedProcess,
  type RetainedMemory,
} from '../../harness/index.ts';
import { ChaosProxy } from '../faults/chaos-proxy.ts';
import { rssBytes } from '../faults/rss.ts';
import { SIM_MODEL_IDS, SIM_MODELS_DIR, simGatewayOverrides } from './sim-config.ts';

export interface ChaosNodeSpec {
  slots?: number;
  queue?: number;
  modelsDir?: string;
  /** Extra environment, e.g. the clock-skew shim via NODE_OPTIONS. */
  env?: Record<string, string>;
}

export interface ChaosClusterOptions {
  regions: { name: string; nodes: number | ChaosNodeSpec[] }[];
  node?: ChaosNodeSpec;
  /** One gateway per listed home region (default: one, homed in the first region). */
  gateways?: string[];
  /** Deep-merged over the harness base config plus the sim model overrides. */
  gateway?: Record<string, unknown>;
  gatewayEnv?: Record<string, string>;
  /** Extra environment for the gateway homed in one region (e.g. a skewed clock for just one). */
  gatewayEnvByHome?: Record<string, Record<string, string>>;
  /** Node and gateway log level; at least `info`, which carries the "listening" line. */
  logLevel?: string;
}

export class ChaosNode {
  restarts = 0;
  constructor(
    readonly id: string,
    readonly region: string,
    readonly spec: ChaosNodeSpec,
    public proc: ManagedProcess,
    readonly proxy: ChaosProxy,
    private readonly logLevel: string,
  ) {}

  /** The address the gateway knows: the proxy's. */
  get url(): string {
    return this.proxy.url;
  }
  get directUrl(): string {
    return this.proxy.target;
  }
  rss(): number | undefined {
    return this.proc.running ? rssBytes(this.proc.pid) : undefined;
  }
  /** SIGKILL, and the proxy refuses connections like the dead node's port would. */
  async kill(): Promise<void> {
    await Promise.all([this.proc.kill(), this.proxy.down()]);
  }
  pause(): void {
    this.proc.pause();
  }
  resume(): void {
    this.proc.resume();
  }
  /** Starts a fresh process (after a kill, like a supervisor would) and points the proxy at it. */
  async restart(): Promise<void> {
    if (this.proc.running) await this.proc.kill();
    const { proc, url } = await spawnNode(this.id, this.region, this.spec, this.logLevel);
    this.proc = proc;
    this.proxy.target = url;
    await this.proxy.up();
    this.restarts++;
  }
}

/** The harness's node start (every pack loaded before it counts as started), with chaos's defaults. */
async function spawnNode(id: string, region: string, spec: ChaosNodeSpec, logLevel: string): Promise<{ proc: ManagedProcess; url: string }> {
  const node = await startNode(id, region, {
    modelsDir: spec.modelsDir ?? SIM_MODELS_DIR,
    slots: spec.slots ?? 4,
    queue: spec.queue ?? 8,
    logLevel,
    ...(spec.env ? { env: spec.env } : {}),
  });
  return { proc: node.proc, url: node.directUrl };
}

export class ChaosCluster {
  constructor(
    readonly nodes: ChaosNode[],
    readonly gateways: (GatewayHandle & { home: string })[],
    readonly config: Record<string, unknown>,
  ) {}
  node(id: string): ChaosNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }
  region(name: string): ChaosNode[] {
    return this.nodes.filter((n) => n.region === name);
  }
  get gateway(): GatewayHandle {
    return this.gateways[0]!;
  }
  /** RSS of every live process, keyed `gateway:<home>` and `node:<id>`. */
  rss(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const g of this.gateways) {
      const r = g.proc.running ? rssBytes(g.proc.pid) : undefined;
      if (r !== undefined) out[`gateway:${g.home}`] = r;
    }
    for (const n of this.nodes) {
      const r = n.rss();
      if (r !== undefined) out[`node:${n.id}`] = r;
    }
    return out;
  }
  /**
   * Retained memory after a full GC in every live process (same keys as `rss()`): what a leak
   * grows, where RSS also moves with GC timing and allocator caching.
   */
  async retained(): Promise<Record<string, RetainedMemory>> {
    const procs: [string, ManagedProcess][] = [
      ...this.gateways.map((g): [string, ManagedProcess] => [`gateway:${g.home}`, g.proc]),
      ...this.nodes.map((n): [string, ManagedProcess] => [`node:${n.id}`, n.proc]),
    ];
    const out: Record<string, RetainedMemory> = {};
    for (const [key, proc] of procs) if (proc.running) out[key] = await proc.retainedMemory();
    return out;
  }
  /** Gateways first (they stop admitting), then nodes and proxies. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.gateways.map((g) => g.proc.stop(2_000)));
    for (const n of this.nodes) n.resume();
    await Promise.all(this.nodes.map((n) => n.proc.kill()));
    await Promise.all(this.nodes.map((n) => n.proxy.close()));
  }
}

/**
 * @example
 * const cluster = await startChaosCluster({ regions: [{ name: 'north', nodes: 2 }, { name: 'south', nodes: 2 }] });
 * try { …; cluster.node('north-1').proxy.set({ kind: 'reset_mid_body', fraction: 0.5 }); … }
 * finally { await cluster.close(); }
 */
export async function startChaosCluster(options: ChaosClusterOptions): Promise<ChaosCluster> {
  const logLevel = options.logLevel ?? 'info';
  const specs = nodeSpecs<ChaosNodeSpec>(options.regions, options.node).map((s) => ({ id: s.id, region: s.region, spec: s.opts }));
  const nodes: ChaosNode[] = [];
  const gateways: (GatewayHandle & { home: string })[] = [];
  const cluster = new ChaosCluster(nodes, gateways, {});
  try {
    // Sequential starts: on two cores, parallel tsx compiles only make every start slower.
    for (const s of specs) {
      const { proc, url } = await spawnNode(s.id, s.region, s.spec, logLevel);
      const proxy = await ChaosProxy.start(url);
      nodes.push(new ChaosNode(s.id, s.region, s.spec, proc, proxy, logLevel));
    }
    const homes = options.gateways ?? [options.regions[0]!.name];
    const config = deepMerge(deepMerge(baseConfig(), simGatewayOverrides()), {
      region: homes[0],
      regions: options.regions.map((r, ri) => ({
        name: r.name,
        priority: ri,
        nodes: nodes.filter((n) => n.region === r.name).map((n) => ({ id: n.id, url: n.url, models: SIM_MODEL_IDS })),
      })),
      ...(options.gateway ?? {}),
    });
    Object.assign(cluster.config, config);
    for (const home of homes) {
      const gw = await startGateway(config, { region: home, env: { LOG_LEVEL: logLevel, ...options.gatewayEnv, ...options.gatewayEnvByHome?.[home] } });
      gateways.push(Object.assign(gw, { home }));
    }
    return cluster;
  } catch (error) {
    await cluster.close();
    throw error;
  }
}
