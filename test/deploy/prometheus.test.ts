/**
 * The alerting rules and the dashboard against real things: Debian's promtool checks and
 * unit-tests the rules; every metric the rules and the dashboard name is on the /metrics of a
 * real gateway and node runtime; the probe paths the manifests use answer there; and a real
 * Prometheus scraping that cluster (1 s scrapes, the rules with short windows) fires the 5xx
 * alert during an injected 500 storm and not before.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, getText, REPO_ROOT, SIM_MODELS_DIR, simOverrides, startCluster, synthesize, waitFor, type Cluster } from '../harness/index.ts';
import { hasRedis, startRedis, type RedisProcess } from '../support/redis-server.ts';
import { hasCommand, systemPackage } from '../support/system-package.ts';
import { hasMetric, metricFamilies, metricNamesIn, readManifests, readText, readYaml } from './deploy-files.ts';

const promtool = systemPackage('promtool', () => hasCommand('promtool', ['--version']), 'apt-get install prometheus');
const prometheusBinary = promtool && hasCommand('prometheus', ['--version']);

/** Exported only where a shared state store (Redis) is configured: this cluster has one when redis-server is installed. */
const withRedis = hasRedis();
const ONLY_WITH_SHARED_STATE = new Set(['voxgate_gateway_shared_state_up']);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}
const rules = readYaml<{ groups: { rules: Rule[] }[] }>('deploy/prometheus/rules.yaml').groups.flatMap((g) => g.rules);

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readText('deploy/grafana/voxgate-dashboard.json')) as { panels: Panel[]; templating: { list: { name: string; type: string }[] } };
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!promtool)('deploy/prometheus/rules.yaml', () => {
  it('loads in Prometheus (promtool check rules)', () => {
    const r = run('promtool', ['check', 'rules', 'deploy/prometheus/rules.yaml']);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('passes its unit tests: thresholds, and a canary alert only on rollback (promtool test rules)', () => {
    const r = run('promtool', ['test', 'rules', 'deploy/prometheus/rules.test.yaml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('the seed alerts are all there', () => {
  it('names the alerts docs/deploy.md and the README describe', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'VoxgateCanaryRollback',
      'VoxgateDegradationClimbing',
      'VoxgateHigh5xxRate',
      'VoxgateNodeQueueSlow',
      'VoxgatePanicRouting',
      'VoxgateRegionCapacityLow',
      'VoxgateRegionDown',
      'VoxgateSharedStateDown',
    ]);
    const docs = readText('docs/deploy.md');
    for (const r of rules) expect(docs, r.alert).toContain(r.alert);
    expect(rules.find((r) => r.alert === 'VoxgateCanaryRollback')!.expr).toMatch(/== -1\s*$/);
    // The README's alert table shows each expression as the rules file has it.
    const readme = readText('README.md');
    for (const r of rules) expect(readme, r.alert).toContain(`\`${r.expr.replace(/\s+/g, ' ').trim()}\``);
  });

  it('the dashboard aggregates by error code, node and input length', () => {
    const all = dashboardExprs.map((e) => e.expr).join('\n');
    expect(all).toMatch(/by \(code\)/);
    expect(all).toMatch(/by \(le, node\)/);
    expect(all).toMatch(/by \(le, input_len\)/);
    expect(dashboard.templating.list.find((v) => v.type === 'datasource')).toBeDefined();
  });
});

describe('against a live gateway and node runtimes', () => {
  let cluster: Cluster;
  const tmp = mkdtempSync(path.join(tmpdir(), 'voxgate-prom-'));
  let prom: ChildProcess | undefined;
  let redis: RedisProcess | undefined;

  beforeAll(async () => {
    redis = withRedis ? await startRedis() : undefined;
    cluster = await startCluster({
      regions: [{ name: 'north', nodes: 2 }],
      node: { modelsDir: SIM_MODELS_DIR, proxy: true, slots: 4, queue: 16 },
      // Lenient health checks: on a busy 2-core machine a 300 ms probe timeout can mark healthy
      // nodes down, and the "not before" half needs no 5xx at all before the storm.
      gateway: {
        ...simOverrides(),
        health: { interval_ms: 500, timeout_ms: 2_000, healthy_threshold: 1, unhealthy_threshold: 5 },
        ...(redis ? { shared_state: { redis_url: redis.url } } : {}),
      },
    });
  }, 120_000);
  afterAll(async () => {
    prom?.kill('SIGKILL');
    await cluster?.close();
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every metric the rules and the dashboard name exists on /metrics', async () => {
    await synthesize(cluster.gateway.url, 'demo-pro', { text: 'Hello from voxgate.' });
    const gateway = metricFamilies(await getText(`${cluster.gateway.url}/metrics`));
    const node = metricFamilies(await getText(`${cluster.nodes[0]!.directUrl}/metrics`));
    const named = [
      ...rules.map((r) => ({ where: `rule ${r.alert}`, expr: r.expr })),
      ...dashboardExprs.map((d) => ({ where: `panel ${d.panel}`, expr: d.expr })),
    ];
    const missing: string[] = [];
    let checked = 0;
    for (const { where, expr } of named)
      for (const name of metricNamesIn(expr)) {
        if (!redis && ONLY_WITH_SHARED_STATE.has(name)) continue;
        const page = name.startsWith('voxgate_gateway_') ? gateway : node;
        checked++;
        if (!hasMetric(page, name)) missing.push(`${name} (${where})`);
      }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(30);
    // With Redis configured and answering, the outage metric is there and says up.
    if (redis) expect(await getText(`${cluster.gateway.url}/metrics`)).toMatch(/^voxgate_gateway_shared_state_up 1$/m);
    // The input-length histogram is live, not just declared.
    expect(await getText(`${cluster.gateway.url}/metrics`)).toMatch(
      /voxgate_gateway_request_duration_by_input_seconds_count\{input_len="0-50",outcome="ok"\} [1-9]/,
    );
  });

  it('the probe paths the manifests use answer 200 on the processes', async () => {
    for (const [file, url] of [
      ['deploy/k8s/base/gateway-deployment.yaml', cluster.gateway.url],
      ['deploy/k8s/base/node-statefulset.yaml', cluster.nodes[0]!.directUrl],
    ] as const) {
      const spec = readManifests(file)[0] as unknown as {
        spec: { template: { spec: { containers: { livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } } }[] } } };
      };
      const c = spec.spec.template.spec.containers[0]!;
      const live = await fetch(`${url}${c.livenessProbe.httpGet.path}`);
      expect(live.status, `${url}: ${await live.text()}`).toBe(200);
      // Readiness may flicker on a loaded 2-core machine (health probes time out): ready within 10 s.
      await waitFor(async () => (await fetch(`${url}${c.readinessProbe.httpGet.path}`)).status === 200, 10_000, 100);
      expect((await fetch(`${url}/no-such-probe`)).status).toBe(404);
    }
  });

  it.skipIf(!prometheusBinary)(
    'a real Prometheus fires the 5xx alert during a 500 storm and not before',
    async () => {
      // The shipped rules with windows a test can wait for: 5m/15m → 15s, `for:` → 2s.
      writeFileSync(
        path.join(tmp, 'rules.yaml'),
        readText('deploy/prometheus/rules.yaml')
          .replace(/\[(5|15)m\]/g, '[15s]')
          .replace(/for: \d+m/g, 'for: 2s'),
      );
      const port = await freePort();
      const target = (u: string) => new URL(u).host;
      writeFileSync(
        path.join(tmp, 'prometheus.yml'),
        [
          'global: { scrape_interval: 1s, evaluation_interval: 1s }',
          'rule_files: [rules.yaml]',
          'scrape_configs:',
          `  - { job_name: voxgate-gateway, static_configs: [{ targets: ["${target(cluster.gateway.url)}"] }] }`,
          `  - { job_name: voxgate-node, static_configs: [{ targets: [${cluster.nodes.map((n) => `"${target(n.directUrl)}"`).join(', ')}] }] }`,
        ].join('\n'),
      );
      const api = `http://127.0.0.1:${port}`;
      prom = spawn(
        'prometheus',
        [
          `--config.file=${path.join(tmp, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(tmp, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let promLog = '';
      prom.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
      await waitFor(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200, 20_000, 200).catch(() => {
        throw new Error(`prometheus did not start: ${promLog}`);
      });

      const query = async (q: string) =>
        (await getJson(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)) as { status: string; data: { result: { value: [number, string] }[] } };
      const alertStates = async () =>
        ((await getJson(`${api}/api/v1/alerts`)) as { data: { alerts: { labels: { alertname: string }; state: string }[] } }).data.alerts
          .filter((a) => a.labels.alertname === 'VoxgateHigh5xxRate')
          .map((a) => a.state);

      const statuses: number[] = [];
      const stop = new AbortController();
      const loops = Array.from({ length: 3 }, async () => {
        while (!stop.signal.aborted) {
          statuses.push((await synthesize(cluster.gateway.url, 'demo-pro', { text: 'Hello from voxgate.' })).status);
          await new Promise((r) => setTimeout(r, 25));
        }
      });
      try {
        // Before: healthy traffic until Prometheus has a request rate to divide by, and a few
        // evaluations more; the alert must never even be pending.
        const seenBefore: string[] = [];
        await waitFor(
          async () => {
            seenBefore.push(...(await alertStates()));
            const r = await query('sum(rate(voxgate_gateway_requests_total[15s]))');
            return Number(r.data.result[0]?.value[1] ?? 0) > 0;
          },
          30_000,
          500,
        );
        for (let i = 0; i < 8; i++) {
          seenBefore.push(...(await alertStates()));
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(seenBefore).toEqual([]);
        expect(statuses.length).toBeGreaterThan(10);
        expect(statuses.filter((s) => s >= 500)).toEqual([]);

        // Every rule evaluates without error, and every dashboard query parses and runs.
        const groups = ((await getJson(`${api}/api/v1/rules`)) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } })
          .data.groups;
        const ruleHealth = groups.flatMap((g) => g.rules).map((r) => `${r.name}: ${r.health}${r.lastError ? ` ${r.lastError}` : ''}`);
        expect(ruleHealth).toEqual(rules.map((r) => `${r.alert}: ok`));
        for (const d of dashboardExprs) expect((await query(d.expr.replaceAll('$__rate_interval', '15s'))).status, d.panel).toBe('success');

        // The storm: every node answers synthesis with 500 (health checks still pass).
        const before = statuses.length;
        for (const n of cluster.nodes) n.fault.set({ kind: 'fail', status: 500 });
        const seenDuring: string[] = [];
        await waitFor(
          async () => {
            const states = await alertStates();
            seenDuring.push(...states);
            return states.includes('firing');
          },
          60_000,
          500,
        );
        expect(seenDuring).toContain('pending');
        const during = statuses.slice(before);
        expect(during.filter((s) => s >= 500).length).toBeGreaterThan(5);
      } finally {
        stop.abort();
        await Promise.all(loops);
        for (const n of cluster.nodes) n.fault.set({ kind: 'pass' });
      }
    },
    180_000,
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
