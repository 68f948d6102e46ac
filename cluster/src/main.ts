/**
 * `npm start`: the whole local multi-region deployment from one config file — every node runtime
 * of every region, then the gateway, all on 127.0.0.1, supervised.
 *
 *   npm start                         config/local.yaml, gateway on 8080 (PORT overrides)
 *   npm start -- --config FILE        another topology
 *   npm start -- --gateways N         N gateways behind a local balancer on PORT, sharing a local
 *                                     redis-server (Debian's) this launcher starts and supervises
 *
 * Prints one line containing `ready` and the gateway URL (with several gateways: the balancer's
 * URL, then each gateway's) once every node is ready. Ctrl-C or SIGTERM stops every child and
 * exits 0.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { defineCommand, readCommandLine } from '../../cli/command-line.ts';
import { loadConfigFile } from '../../gateway/src/config/load.ts';
import { startBalancer, type Balancer } from './balancer.ts';
import { SupervisedChild } from './child.ts';
import { REDIS_INSTALL_HINT, hasRedisServer, redisArgs } from './redis.ts';
import { describeRoles } from './roles.ts';
import { choosePort } from './ports.ts';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/lifecycle/gc-tuning.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { values } = readCommandLine(
  defineCommand({
    name: 'npm start --',
    summary:
      'The whole local deployment from one config: every node runtime of every region, then the gateway, on 127.0.0.1, supervised.\nLogs in .voxgate/logs/. Ctrl-C or SIGTERM stops every child.',
    options: {
      config: { type: 'string', value: 'FILE', default: 'config/local.yaml', help: 'topology and gateway config' },
      gateways: { type: 'string', value: 'N', default: '1', help: 'gateways behind a local balancer on PORT, sharing a local redis-server (1 to 16)' },
    },
    notes: 'Environment: PORT sets the gateway port, or the balancer port with --gateways N (default: listen.port in the config).',
  }),
);
const configPath = path.resolve(values.config);
const gatewayCount = Number(values.gateways);
if (!Number.isInteger(gatewayCount) || gatewayCount < 1 || gatewayCount > 16) {
  process.stderr.write(`--gateways must be a whole number from 1 to 16, got ${JSON.stringify(values.gateways)}\n`);
  process.exit(2);
}
// Several gateways share state through Redis: the config's own, or a local redis-server started here.
const localRedis = gatewayCount > 1 && !loadConfigFile(configPath).shared_state;
if (localRedis && !hasRedisServer()) {
  process.stderr.write(`${REDIS_INSTALL_HINT}\n`);
  process.exit(1);
}
const config = loadConfigFile(configPath);
const stateDir = path.join(ROOT, '.voxgate');
const logDir = path.join(stateDir, 'logs');
mkdirSync(logDir, { recursive: true });

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const host = '127.0.0.1';
const gatewayPort = process.env.PORT ? Number(process.env.PORT) : config.listen.port;
const { models_dir: modelsDir, slots, queue_limit: queueLimit } = config.local_cluster;
const packOf = new Map(config.models.map((m) => [m.id, m.pack ?? m.id]));

// Nodes keep their configured port when free; a moved port is written into an effective config
// the gateway reads instead, so a busy 7101 never stops the cluster from starting.
const raw = parseYaml(readFileSync(configPath, 'utf8')) as { regions: { nodes: { id: string; url: string }[] }[]; shared_state?: { redis_url: string } };
const nodes: { id: string; region: string; port: number; packs: string[]; maxTextChars: number | undefined }[] = [];
let moved = false;
for (const region of config.regions) {
  for (const node of region.nodes) {
    const wanted = Number(new URL(node.url).port);
    const { port, moved: changed } = await choosePort(wanted, host);
    if (changed) {
      moved = true;
      say(`port ${wanted} is taken: node ${node.id} uses ${port}`);
      const rawNode = raw.regions.flatMap((r) => r.nodes).find((n) => n.id === node.id);
      if (rawNode) rawNode.url = `http://${host}:${port}`;
    }
    nodes.push({ id: node.id, region: region.name, port, packs: [...new Set(node.models.map((m) => packOf.get(m) ?? m))], maxTextChars: node.max_text_chars });
  }
}
const ready = new Map<string, boolean>();
let stopping = false;
let gatewayUrl: string | undefined;
let announced = false;
const children: SupervisedChild[] = [];
let redis: SupervisedChild | undefined;
if (localRedis) {
  const { port } = await choosePort(0, host);
  raw.shared_state = { redis_url: `redis://${host}:${port}` };
  moved = true;
  let up: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (up = resolve));
  redis = new SupervisedChild(
    { name: 'redis', command: 'redis-server', args: redisArgs(host, port), cwd: ROOT, logFile: path.join(logDir, 'redis.log') },
    {
      onLine: (_name, line) => {
        if (!line.includes('Ready to accept connections')) return;
        if (announced && !stopping) say('redis is back (restarted): the gateways resume the shared limits');
        up();
      },
      onExit: (name, code, signal, restartInMs) =>
        void (
          stopping ||
          say(`${name} exited (${signal ?? `code ${code}`}); restarting in ${restartInMs} ms; meanwhile each gateway enforces its share of the limits`)
        ),
    },
  );
  redis.start();
  await started;
}
const gatewayConfigPath = moved ? path.join(stateDir, 'effective-config.yaml') : configPath;
if (moved) writeFileSync(gatewayConfigPath, stringifyYaml(raw));

for (const line of describeRoles(config, path.resolve(ROOT, modelsDir))) say(line);

/** With several gateways: each one's URL once it listens (by index), and the balancer in front. */
const gatewayUrls: (string | undefined)[] = [];
let balancer: Balancer | undefined;

function announceWhenReady(): void {
  if (announced || !gatewayUrl || nodes.some((n) => !ready.get(n.id))) return;
  if (gatewayCount > 1 && gatewayUrls.filter(Boolean).length < gatewayCount) return;
  announced = true;
  const keys = config.keys.filter((k) => 'key' in k && k.key).map((k) => `${(k as { key: string }).key} (${k.plan})`);
  const where = `${config.regions.length} regions, ${nodes.length} nodes; logs in ${path.relative(process.cwd(), logDir)}/`;
  if (gatewayCount === 1) say(`voxgate ready: ${gatewayUrl}  (${where})`);
  else
    say(
      `voxgate ready: ${gatewayUrl} ${gatewayUrls.join(' ')}  (the balancer, then ${gatewayCount} gateways sharing ${raw.shared_state?.redis_url}; ${where})`,
    );
  if (keys.length) say(`demo keys: ${keys.join(', ')}`);
  say(
    `try: curl -s -X POST ${gatewayUrl}/v1/synthesize -H 'authorization: Bearer ${keys[0]?.split(' ')[0] ?? 'KEY'}' -H 'content-type: application/json' -d '{"text":"Hello from voxgate."}' -o hello.wav`,
  );
  say(`playground: ${gatewayUrl}/   status: ${gatewayUrl}/v1/status`);
}

async function waitReady(id: string, url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      ready.set(id, true);
      announceWhenReady();
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`node ${id} did not become ready; see ${path.join(logDir, `${id}.log`)}`);
}

const onExit = (name: string, code: number | null, signal: NodeJS.Signals | null, restartInMs: number | undefined): void => {
  if (!name.startsWith('gateway')) ready.set(name, false);
  say(`${name} exited (${signal ?? `code ${code}`}); restarting in ${restartInMs} ms`);
};

for (const node of nodes) {
  const url = `http://${host}:${node.port}`;
  const child = new SupervisedChild(
    {
      name: node.id,
      cwd: ROOT,
      logFile: path.join(logDir, `${node.id}.log`),
      args: [
        'node-runtime/src/main.ts',
        '--node-id',
        node.id,
        '--region',
        node.region,
        '--host',
        host,
        '--port',
        String(node.port),
        '--models-dir',
        modelsDir,
        '--models',
        node.packs.join(','),
        '--slots',
        String(slots),
        '--queue',
        String(queueLimit),
        ...(node.maxTextChars === undefined ? [] : ['--max-text-chars', String(node.maxTextChars)]),
      ],
    },
    {
      onExit,
      onLog: (name, line) => {
        if (line.msg === 'listening') {
          if (announced) say(`${name} is back (restarted)`);
          void waitReady(name, url);
        }
      },
    },
  );
  children.push(child);
  child.start();
}

function startGateway(name: string, port: number, index: number | undefined): SupervisedChild {
  const child = new SupervisedChild(
    {
      name,
      cwd: ROOT,
      logFile: path.join(logDir, `${name}.log`),
      nodeFlags: GATEWAY_NODE_FLAGS,
      args: ['gateway/src/main.ts', '--config', gatewayConfigPath, '--host', host, '--port', String(port)],
    },
    {
      onExit,
      onLog: (_name, line) => {
        if (line.msg === 'listening' && typeof line.url === 'string') {
          if (index === undefined) gatewayUrl = line.url;
          else gatewayUrls[index] = line.url;
          announceWhenReady();
        }
        if (line.level === 50 || line.level === 60) say(`${name}: ${String(line.msg)}`);
      },
    },
  );
  child.start();
  return child;
}

const gateways: SupervisedChild[] = [];
if (gatewayCount === 1) gateways.push(startGateway('gateway', gatewayPort, undefined));
else {
  // Fixed ports, so a restarted gateway comes back where the balancer expects it.
  const ports: number[] = [];
  for (let i = 0; i < gatewayCount; i++) ports.push((await choosePort(0, host)).port);
  balancer = await startBalancer(
    host,
    gatewayPort,
    ports.map((port) => ({ host, port })),
  );
  gatewayUrl = balancer.url;
  ports.forEach((port, i) => gateways.push(startGateway(`gateway-${i + 1}`, port, i)));
}

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping ${gatewayCount === 1 ? 'the gateway' : `the balancer and ${gatewayCount} gateways`}, then ${nodes.length} nodes…`);
  await balancer?.close();
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all(children.map((c) => c.stop()));
  await redis?.stop();
  say('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
