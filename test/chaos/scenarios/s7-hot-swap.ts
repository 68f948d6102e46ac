/**
 * Scenario 7: hot model swap and config reload under load, including an invalid pack and
 * invalid configs — zero errors. Packs are published with the runtime's own atomic protocol
 * (`publishPack`) into each node's private models directory and loaded through the admin API;
 * the gateway's config file is rewritten in place (it watches the file; SIGHUP as well).
 * @module
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { publishPack } from '../../../node-runtime/src/packs/publish.ts';
import { startChaosCluster, type ChaosNode } from '../cluster/chaos-cluster.ts';
import { tapLogs } from '../cluster/log-tap.ts';
import { SIM_INVALID_PACK_DIR, SIM_MODELS_DIR, SIM_V2_PACK_DIR } from '../cluster/sim-config.ts';
import { baseChecks, capacityRps, okRecords, QUEUE, SLOTS, TEXTS, type Profile } from './common.ts';
import { drive } from './drive.ts';
import { check, type ScenarioResult } from './scenario.ts';

export const TEST_ADMIN_TOKEN = 'chaos-admin-token-for-tests-only';

interface ReloadAnswer {
  status: number;
  loaded: string[];
  refused: string[];
}

export async function adminReload(node: ChaosNode, token: string | undefined = TEST_ADMIN_TOKEN): Promise<ReloadAnswer> {
  const res = await request(`${node.directUrl}/admin/models/reload`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = (await res.body.json()) as { models?: { name: string; version: string }[]; refused?: { dir: string }[] };
  return {
    status: res.statusCode,
    loaded: (body.models ?? []).map((m) => `${m.name}@${m.version}`),
    refused: (body.refused ?? []).map((r) => path.basename(r.dir)),
  };
}

export async function hotSwap(profile: Profile): Promise<ScenarioResult> {
  const dirs: string[] = [];
  const privateModels = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-chaos-models-'));
    cpSync(SIM_MODELS_DIR, dir, { recursive: true });
    dirs.push(dir);
    return dir;
  };
  const nodeSpec = () => ({ modelsDir: privateModels(), env: { VOXGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
  const cluster = await startChaosCluster({
    regions: [
      { name: 'north', nodes: [nodeSpec(), nodeSpec()] },
      { name: 'south', nodes: [nodeSpec(), nodeSpec()] },
    ],
    node: { slots: SLOTS, queue: QUEUE },
  });
  let refusedConfigs = 0;
  let appliedConfigs = 0;
  const untap = tapLogs(cluster.gateway.proc, (l) => {
    if (l.msg === 'config reload refused; keeping the running config') refusedConfigs++;
    if (l.msg === 'config reloaded') appliedConfigs++;
  });
  try {
    const capacity = capacityRps(cluster.nodes.length);
    const rps = Math.round(capacity * 0.4 * 10) / 10;
    const step = profile.short ? 3_000 : 6_000;
    const durationMs = step * 9;
    const answers: Record<string, ReloadAnswer> = {};
    const base = cluster.config as { regions: { name: string; nodes: unknown[] }[]; retry?: object };
    const writeConfig = (cfg: unknown, label: string, sighup = true) => {
      cluster.gateway.writeConfig(typeof cfg === 'string' ? cfg : JSON.stringify(cfg, null, 2), sighup);
      return label;
    };
    let swappedAt = 0;
    const run = await drive(
      cluster,
      {
        targets: [cluster.gateway.url],
        keys: ['demo-enterprise', 'demo-pro'],
        texts: TEXTS,
        phases: [{ duration_ms: durationMs, rps }],
        max_requests: Math.ceil((rps * durationMs) / 1000) + 10,
      },
      async (ctx) => {
        await ctx.at(step);
        ctx.instant('hot swap sim-primary 2.0.0 (north)');
        for (const id of ['north-1', 'north-2']) {
          await publishPack(SIM_V2_PACK_DIR, cluster.node(id).spec.modelsDir!);
          answers[`swap ${id}`] = await adminReload(cluster.node(id));
        }
        swappedAt = ctx.elapsed();
        await ctx.at(step * 2);
        ctx.instant('invalid pack published (south-1)');
        await publishPack(SIM_INVALID_PACK_DIR, cluster.node('south-1').spec.modelsDir!);
        answers['invalid south-1'] = await adminReload(cluster.node('south-1'));
        await ctx.at(step * 3);
        ctx.instant(
          writeConfig(
            { ...base, regions: base.regions.map((r) => (r.name === 'south' ? { ...r, nodes: r.nodes.slice(0, 1) } : r)), retry: { max_attempts: 3 } },
            'config: drop south-2',
          ),
        );
        await ctx.at(step * 4);
        ctx.instant(writeConfig(base, 'config: south-2 back'));
        await ctx.at(step * 5);
        ctx.instant(writeConfig({ ...base, region: 'nowhere', retry: { backoff_base_ms: 500, backoff_max_ms: 10 } }, 'invalid config (schema)'));
        await ctx.at(step * 6);
        ctx.instant(writeConfig('regions: [ {{{ not yaml', 'invalid config (YAML)'));
        await ctx.at(step * 7);
        ctx.instant(writeConfig(base, 'config restored'));
      },
    );
    const afterSwap = run.records.filter((r) => r.t > swappedAt + 3_000 && r.outcome === 'ok' && r.node?.startsWith('north') && r.version !== undefined);
    const sent = run.records.length;
    const ok = okRecords(run.records).length;
    const swaps = ['north-1', 'north-2'].map((id) => answers[`swap ${id}`]);
    const invalid = answers['invalid south-1'];
    return {
      id: '7',
      title: 'Hot model swap and config reload',
      claim: 'zero errors, including an invalid pack and invalid configs',
      ...run,
      capacityRps: capacity,
      checks: [
        check('every request served', ok === sent, `${ok} of ${sent} ok`),
        ...baseChecks(run.records),
        check(
          'packs swapped to 2.0.0 on both north nodes',
          swaps.every((a) => a?.status === 200 && a.loaded.includes('sim-primary@2.0.0')),
          JSON.stringify(swaps),
        ),
        check(
          'north answers come from 2.0.0 after the swap',
          afterSwap.length > 0 && afterSwap.every((r) => r.version === '2.0.0' || (r.version === '1.0.0' && r.degraded !== undefined)),
          `${afterSwap.filter((r) => r.version === '2.0.0').length} of ${afterSwap.length} north answers at 2.0.0`,
        ),
        check(
          'the invalid pack is refused and 1.0.0 keeps serving',
          invalid?.status === 200 && invalid.refused.includes('sim-primary') && invalid.loaded.includes('sim-primary@1.0.0'),
          JSON.stringify(invalid),
        ),
        check(
          'invalid configs refused, valid ones applied',
          refusedConfigs >= 2 && appliedConfigs >= 3,
          `${refusedConfigs} refused, ${appliedConfigs} applied`,
        ),
      ],
      figures: { offered_rps: rps, config_reloads_applied: appliedConfigs, config_reloads_refused: refusedConfigs },
    };
  } finally {
    untap();
    await cluster.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
