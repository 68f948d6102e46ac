/**
 * Turns one run's results into the markdown summary (terminal, `bench/results/latest.md`, the
 * README section) and the SVG chart the README embeds.
 * @module
 */
import type { GoalRow, SuiteResults } from './goals.ts';
import { table } from '../lib/markdown.ts';
import { fmt } from '../lib/stats.ts';
import { barPanel, linePanel, svgDocument } from '../lib/svg.ts';

export interface RunMeta {
  startedAt: string;
  wallS: number;
  machine: string;
  loadAvgStart: string;
  loadAvgEnd: string;
  node: string;
  tool: string;
  durationS: number;
  warmupS: number;
  reps: number;
  notes: string[];
}

const met = (m: boolean | undefined) => (m === undefined ? 'not judged' : m ? '**met**' : '**missed**');

export function goalsTable(goals: GoalRow[]): string {
  return table(
    ['metric', 'goal', 'measured', 'same-run baseline', 'result'],
    goals.map((g) => [g.metric, g.goal, g.measured, g.baseline, met(g.met)]),
  );
}

export function markdownReport(meta: RunMeta, r: SuiteResults, goals: GoalRow[], hot?: string): string {
  const out: string[] = [];
  out.push(`# voxgate gateway benchmark — ${meta.startedAt}`);
  out.push('');
  out.push(
    `${meta.machine}; Node ${meta.node}; load from \`${meta.tool}\` in its own process; ${meta.reps} repetitions of ${meta.durationS} s per target in alternating order after a ${meta.warmupS} s warm-up; whole run ${Math.round(meta.wallS)} s. Load average at start/end: ${meta.loadAvgStart} / ${meta.loadAvgEnd} (the machine is shared: read the ratios, not the absolute numbers).`,
  );
  out.push('');
  out.push('## Goals');
  out.push('');
  out.push(goalsTable(goals));
  if (r.overhead?.length) {
    out.push('');
    out.push('## Overhead by scenario');
    out.push('');
    out.push(
      'Added p50/p99 = target − `direct` in the same repetition (median over repetitions, as every figure here). `÷ raw` = against the node:http + undici `Pool.stream()` pass-through in the same repetition. CPU = utime+stime of the target process from /proc per request (main thread in brackets).',
    );
    for (const s of r.overhead) {
      out.push('');
      out.push(`### ${s.title}`);
      out.push('');
      out.push(
        table(
          ['target', 'req/s', 'p50 ms', 'p99 ms', 'added p50', 'added p99', 'req/s ÷ raw', 'CPU ms/req', 'CPU ÷ raw', 'peak RSS MB', 'errors'],
          s.targets.map((t) => [
            t.target,
            `${fmt(t.rps)} (${t.perRep.map((p) => fmt(p.rps)).join(' / ')})`,
            fmt(t.p50),
            fmt(t.p99),
            t.addedP50 === undefined ? '–' : fmt(t.addedP50),
            t.addedP99 === undefined ? '–' : fmt(t.addedP99),
            t.rpsVsRaw === undefined ? '–' : fmt(t.rpsVsRaw),
            `${fmt(t.cpuMsPerReq)} (${fmt(t.mainThreadCpuMsPerReq)})`,
            t.cpuVsRaw === undefined ? '–' : fmt(t.cpuVsRaw),
            fmt(t.peakRssMb),
            t.errors + t.non2xx,
          ]),
        ),
      );
      const b = s.targets.find((t) => t.target === 'gateway-b');
      if (b?.cpuVsGateway !== undefined)
        out.push(
          '',
          `A/B: gateway-b (${process.env['BENCH_GATEWAY_B'] ?? 'other build'}) ÷ gateway, same repetitions: CPU/request ${fmt(b.cpuVsGateway)} (main thread ${fmt(b.mainCpuVsGateway)}), req/s ${fmt(b.rpsVsGateway)}.`,
        );
    }
  }
  if (r.shadow?.length) {
    out.push('');
    out.push('## Shadow on vs off, paired windows');
    out.push('');
    out.push(
      "`gateway` and `gateway+shadow` take turns in short windows (A B, B A, …); each Δ is the median over adjacent pairs, which drift together on a shared machine. Mirror events are the shadow gateway's `shadow_events_total` during the windows.",
    );
    out.push('');
    out.push(
      table(
        ['scenario', 'pairs × s', 'req/s off / on', 'p50 ms off / on', 'CPU ms/req off / on', 'Δ CPU/req', 'Δ main thread', 'Δ p50 ms', 'mirror events'],
        r.shadow.map((x) => [
          x.title,
          `${x.pairs} × ${x.seconds}`,
          `${fmt(x.off.rps)} / ${fmt(x.on.rps)}`,
          `${fmt(x.off.p50)} / ${fmt(x.on.p50)}`,
          `${fmt(x.off.cpu)} / ${fmt(x.on.cpu)}`,
          `${fmt(x.cpuDelta * 100, '%')}`,
          `${fmt(x.mainDelta * 100, '%')}`,
          fmt(x.p50Delta),
          Object.entries(x.events)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ]),
      ),
    );
  }
  if (r.aborts?.length) {
    out.push('');
    out.push('## Client aborts');
    out.push('');
    out.push(
      table(
        [
          'target',
          'clients hung up mid-body',
          'wrk runs ending mid-body',
          'alive and serving',
          'upstream requests left open',
          'upstream sockets before → after',
          'fds before → after',
        ],
        r.aborts.map((a) => [
          a.target,
          `${a.abortedMidBody}/${a.clients}`,
          a.wrkRuns,
          a.alive && a.servesAfter ? 'yes' : 'NO',
          a.upstreamActiveAfter,
          `${a.upstreamSocketsBefore} → ${a.upstreamSocketsAfter}`,
          `${a.fdsBefore} → ${a.fdsAfter}`,
        ]),
      ),
    );
  }
  if (r.failover) {
    const f = r.failover;
    out.push('');
    out.push('## Region killed under paced load');
    out.push('');
    out.push(
      `Open-loop ${f.rate} req/s (64 KiB, upstreams 50 ± 30 ms); both nodes of the home region SIGKILLed at ${Math.round(f.killAtMs)} ms. ${f.ok}/${f.requests} answered 200, ${f.status5xx} 5xx, ${f.transportErrors} transport errors${Object.keys(f.other).length ? `, other: ${JSON.stringify(f.other)}` : ''}; ${f.servedByB} served by region B.`,
    );
    out.push('');
    out.push(
      table(
        ['window', 'requests', 'ok', 'p50 ms', 'p99 ms', 'p99 ÷ steady'],
        [
          ['steady (before the kill)', f.steady.requests, f.steady.ok, fmt(f.steady.p50), fmt(f.steady.p99), '1'],
          ['switch', f.switch.requests, f.switch.ok, fmt(f.switch.p50), fmt(f.switch.p99), fmt(f.switchP99VsSteady)],
          ['after', f.after.requests, f.after.ok, fmt(f.after.p50), fmt(f.after.p99), fmt(f.after.p99 / f.steady.p99)],
        ],
      ),
    );
  }
  if (r.scale) {
    out.push('');
    out.push('## Scale: 10 regions, growing node count');
    out.push('');
    out.push(
      table(
        [
          'nodes',
          'routing decision µs (plan + balance)',
          'plan µs',
          'balance µs',
          '÷ smallest',
          'health sweep CPU ms',
          'µs per node probe',
          'sweep wall ms',
          'core share at interval',
        ],
        r.scale.routing.map((p, i) => {
          const h = r.scale!.health[i];
          return [
            p.nodes,
            fmt(p.totalUs),
            fmt(p.planUs),
            fmt(p.balanceUs),
            fmt(p.vsSmallest),
            fmt(h?.cpuMsPerSweep),
            fmt(h?.cpuUsPerNodeProbe),
            fmt(h?.wallMsPerSweep),
            h ? `${fmt(h.coreShareAtInterval * 100)}% @ ${h.intervalMs} ms` : '–',
          ];
        }),
      ),
    );
  }
  if (r.degradation) {
    const d = r.degradation;
    out.push('');
    out.push('## Degradation curve');
    out.push('');
    out.push(
      `${d.nodes} sim node runtimes × ${d.slots} slots (queue ${d.queue}), ${d.primaryComputeMs} ms per primary synthesis → primary capacity ${d.capacityRps} req/s (the baseline). Open-loop, thirds per plan, ${d.levelMs / 1000} s per level. Goodput = 200s per second; degraded = answered by the fallback model.`,
    );
    out.push('');
    out.push(
      table(
        ['offered', ...d.levels[0]!.plans.map((p) => `${p.plan}: goodput/s (ok %, degraded %), p99 ms`)],
        d.levels.map((l) => [
          `${l.multiple}× (${fmt(l.offeredRps)} req/s)`,
          ...l.plans.map((p) => `${fmt(p.goodputRps)} (${fmt(p.goodputShare * 100)}%, ${fmt(p.degradedShare * 100)}%), ${fmt(p.p99)}`),
        ]),
      ),
    );
  }
  if (hot) {
    out.push('');
    out.push('## Where the gateway spends its CPU (node --cpu-prof, saturation)');
    out.push('');
    out.push(hot);
  }
  if (meta.notes.length) {
    out.push('');
    out.push('## Notes');
    out.push('');
    for (const n of meta.notes) out.push(`- ${n}`);
  }
  return `${out.join('\n')}\n`;
}

export function chartSvg(r: SuiteResults): string {
  const W = 760;
  const parts: string[] = [];
  let y = 10;
  if (r.overhead?.length) {
    const groups = r.overhead
      .filter((s) => s.id !== 'unloaded' && s.id !== 'paced')
      .map((s) => {
        const g = s.targets.find((t) => t.target === 'gateway');
        const sh = s.targets.find((t) => t.target === 'gateway+shadow');
        return {
          label: s.title.replace('saturation ', '').replace(', 64 KiB', ' 64K'),
          bars: [
            { label: 'gateway req/s ÷ raw', value: g?.rpsVsRaw ?? Number.NaN },
            { label: 'gateway+shadow req/s ÷ raw', value: sh?.rpsVsRaw ?? Number.NaN },
          ],
        };
      });
    const p = barPanel(10, y, W - 20, 'Saturation throughput ÷ raw undici Pool.stream proxy (same run)', groups, {
      max: 1.2,
      goal: 0.9,
      goalLabel: 'goal ≥ 0.9',
    });
    parts.push(p.svg);
    y += p.height + 10;
  }
  if (r.scale) {
    const p = linePanel(
      10,
      y,
      W - 20,
      200,
      'Routing decision time vs nodes (10 regions)',
      [
        { label: 'plan + balance µs', points: r.scale.routing.map((q) => ({ x: q.nodes, y: q.totalUs })) },
        { label: 'health µs per node', points: r.scale.health.map((q) => ({ x: q.nodes, y: q.cpuUsPerNodeProbe })) },
      ],
      { logX: true, logY: true, xLabel: 'nodes', yLabel: 'µs' },
    );
    parts.push(p.svg);
    y += p.height + 10;
  }
  if (r.degradation) {
    const d = r.degradation;
    const p = linePanel(
      10,
      y,
      W - 20,
      200,
      `Goodput per plan vs offered load (× primary capacity ${d.capacityRps} req/s)`,
      d.levels[0]!.plans.map((pl, i) => ({ label: `${pl.plan} goodput/s`, points: d.levels.map((l) => ({ x: l.multiple, y: l.plans[i]!.goodputRps })) })),
      { xLabel: 'offered load ÷ capacity', yLabel: 'req/s' },
    );
    parts.push(p.svg);
    y += p.height + 10;
  }
  return svgDocument(W, y + 10, parts);
}
