/**
 * The degradation curve: primary capacity fixed (real node runtimes running the simulator engine,
 * `test/fixtures/models/sim`: N nodes × S slots, each primary synthesis taking the pack's
 * base + rtf × audio time), open-loop traffic split evenly over the three plans, offered at
 * 0.5× … 3× that capacity. Per plan and level: goodput (200s per second, and the share of them
 * served degraded, i.e. by the fallback model) and p99 of the answered requests. The baseline
 * is the capacity itself, computed from the packs the nodes load in this run.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { baseConfig } from '../../test/harness/config.ts';
import { startNode, type NodeHandle } from '../../test/harness/cluster.ts';
import { startBenchGateway } from './targets.ts';
import { spawnOpenLoop } from '../lib/open-loop.ts';
import { REPO_ROOT, type Service } from '../lib/proc.ts';
import type { Progress } from '../lib/progress.ts';
import { percentile, round } from '../lib/stats.ts';

const MODELS_DIR = 'test/fixtures/models/sim';
const PLANS = ['free', 'pro', 'enterprise'] as const;
const TEXTS = Array.from({ length: 20 }, (_, i) => `Short ${String(i).padStart(2, '0')}.`);

export interface PlanPoint {
  plan: string;
  offered: number;
  ok: number;
  goodputRps: number;
  goodputShare: number;
  degradedShare: number;
  refused: Record<string, number>;
  p50: number;
  p99: number;
}

export interface LoadLevel {
  multiple: number;
  offeredRps: number;
  plans: PlanPoint[];
}

export interface DegradationResult {
  nodes: number;
  slots: number;
  queue: number;
  primaryComputeMs: number;
  capacityRps: number;
  levelMs: number;
  levels: LoadLevel[];
}

interface SimParams {
  rtf?: number;
  base_ms?: number;
  ms_per_char?: number;
  min_audio_ms?: number;
  max_audio_ms?: number;
}

/** Expected primary compute time of one request with `chars` characters (sim-engine.ts). */
function primaryComputeMs(chars: number): number {
  const m = JSON.parse(readFileSync(join(REPO_ROOT, MODELS_DIR, 'sim-primary', 'manifest.json'), 'utf8')) as { parameters?: SimParams };
  const p = m.parameters ?? {};
  const audio = Math.min(p.max_audio_ms ?? 30_000, Math.max(p.min_audio_ms ?? 200, (p.ms_per_char ?? 60) * chars));
  return (p.base_ms ?? 0) + (p.rtf ?? 0.05) * audio;
}

function gatewayConfig(nodes: NodeHandle[], storeDir: string): Record<string, unknown> {
  const base = baseConfig();
  const plans = base['plans'] as Record<string, Record<string, unknown>>;
  for (const p of Object.values(plans)) {
    p['primary'] = 'sim-hd';
    p['fallback'] = 'sim-fast';
  }
  return {
    ...base,
    region: 'north',
    regions: [{ name: 'north', priority: 0, nodes: nodes.map((n) => ({ id: n.id, url: n.url, models: ['sim-hd', 'sim-fast'] })) }],
    models: [
      { id: 'sim-hd', role: 'primary', engine: 'sim', pack: 'sim-primary', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
      { id: 'sim-fast', role: 'fallback', engine: 'sim', pack: 'sim-fallback', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
    ],
    plans,
    canary_judge: { store: join(storeDir, 'canary.sqlite'), asr: 'off' },
    health: { interval_ms: 250, timeout_ms: 400, healthy_threshold: 2, unhealthy_threshold: 2 },
  };
}

export async function runDegradation(o: {
  dir: string;
  nodes: number;
  slots: number;
  queue: number;
  multiples: number[];
  levelMs: number;
  progress: Progress;
}): Promise<DegradationResult> {
  const nodes: NodeHandle[] = [];
  let gw: Service | undefined;
  try {
    o.progress.begin(`degradation · starting ${o.nodes} sim node runtimes (${o.slots} slots, queue ${o.queue}) and a gateway`);
    const started = await Promise.allSettled(
      Array.from({ length: o.nodes }, (_, i) => startNode(`north-${i + 1}`, 'north', { modelsDir: MODELS_DIR, slots: o.slots, queue: o.queue })),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const g = await startBenchGateway({
      dir: o.dir,
      name: 'gateway-degradation',
      topology: { regions: [] },
      config: gatewayConfig(nodes, join(o.dir, 'degradation-canary')),
    });
    gw = g.service;
    const chars = TEXTS[0]!.length;
    const computeMs = primaryComputeMs(chars);
    const capacity = (o.nodes * o.slots * 1000) / computeMs;
    o.progress.end(`primary capacity ${round(capacity)} req/s (${o.nodes}×${o.slots} slots, ${round(computeMs)} ms per primary synthesis)`);
    const bodies = TEXTS.map((text) => JSON.stringify({ text }));
    const classes = PLANS.map((p) => ({ label: p, key: `demo-${p}`, weight: 1 }));
    const levels: LoadLevel[] = [];
    for (const k of o.multiples) {
      const rate = capacity * k;
      o.progress.begin(`degradation · ${k}× capacity (${round(rate)} req/s offered) for ${o.levelMs / 1000}s`);
      const out = await spawnOpenLoop(
        { url: g.url, rate, durationMs: o.levelMs, bodies, classes, timeoutMs: 20_000, graceMs: 20_000, maxInflight: 1024 },
        REPO_ROOT,
      );
      const seconds = o.levelMs / 1000;
      const plans: PlanPoint[] = PLANS.map((plan, ci) => {
        const mine = out.records.filter((r) => r[3] === ci && r[2] !== -1);
        const ok = mine.filter((r) => r[2] === 200);
        const refused: Record<string, number> = {};
        for (const r of mine) if (r[2] !== 200) refused[String(r[2])] = (refused[String(r[2])] ?? 0) + 1;
        const lat = ok.map((r) => r[1]);
        return {
          plan,
          offered: mine.length,
          ok: ok.length,
          goodputRps: round(ok.length / seconds),
          goodputShare: round(mine.length ? ok.length / mine.length : Number.NaN),
          degradedShare: round(ok.length ? ok.filter((r) => r[4] === 1).length / ok.length : 0),
          refused,
          p50: round(percentile(lat, 50)),
          p99: round(percentile(lat, 99)),
        };
      });
      levels.push({ multiple: k, offeredRps: round(rate), plans });
      o.progress.end(plans.map((p) => `${p.plan} ${p.goodputRps}/s ok (${Math.round(p.degradedShare * 100)}% degraded), p99 ${p.p99} ms`).join('; '));
      // Let queues drain before the next level.
      await sleep(1_500);
    }
    return { nodes: o.nodes, slots: o.slots, queue: o.queue, primaryComputeMs: round(computeMs), capacityRps: round(capacity), levelMs: o.levelMs, levels };
  } finally {
    await gw?.stop(2_000);
    await Promise.all(nodes.map((n) => n.kill()));
  }
}
