/**
 * `npm run canary-report -- [--config FILE | --store FILE | --url URL] [--json]`
 *
 * Prints the canary report in a terminal. Three sources, the same report:
 *   --url URL      asks a running gateway (`GET URL/v1/canary/report`);
 *   --config FILE  reads the store named in the gateway config (canaries and thresholds from it);
 *   --store FILE   reads a store directly (every canary in it, default thresholds).
 * The store is opened read-only, so it is safe while the gateway runs (SQLite WAL).
 * Exit status: 0, or 3 when any canary's verdict is `rollback` (for scripts and CI gates).
 * @module
 */
import { defineCommand, exitWithUsage, readCommandLine } from '../../../cli/command-line.ts';
import { detectPocketsphinx } from './asr/pocketsphinx.ts';
import { loadConfigFile } from '../config/load.ts';
import { CanaryJudgeSchema, thresholdsFor, type CanaryConfig, type CanaryJudgeConfig } from '../config/canary.ts';
import { buildReport } from './report/build-report.ts';
import type { Report } from './report/report-types.ts';
import { renderTerminal } from './report/terminal.ts';
import { CanaryStore } from './store/canary-store.ts';

const CANARY_COMMAND = defineCommand({
  name: 'npm run canary-report --',
  usage: '(--url URL | --config FILE | --store FILE) [--json]',
  summary: 'Prints the canary report: verdict per canary (promote, hold, rollback) with its reasons.',
  options: {
    config: { type: 'string', value: 'FILE', help: 'read the store named in this gateway config (its canaries and thresholds)' },
    store: { type: 'string', value: 'FILE', help: 'read this canary store directly (default thresholds)' },
    url: { type: 'string', value: 'URL', help: 'ask a running gateway (GET URL/v1/canary/report)' },
    json: { type: 'boolean', default: false, help: 'print the report as JSON' },
  },
  notes: 'Exit status: 0, 3 when any canary says rollback, 2 on a usage error, 1 when the report cannot be read.',
});
const { values } = readCommandLine(CANARY_COMMAND);

function fromStore(file: string, judge: CanaryJudgeConfig, canaries: readonly CanaryConfig[] | undefined): Report {
  const store = new CanaryStore(file, { readonly: true });
  try {
    const list =
      canaries ??
      store.canaries().map((name) => ({ canary: name, baseline: '?', sample_rate: 0, plans: [], max_concurrent: 0, timeout_ms: 0, thresholds: {} }));
    const asr = judge.asr === 'off' ? { available: false, reason: 'disabled by canary_judge.asr: off' } : detectPocketsphinx();
    const asrState = asr.available ? { available: true } : { available: false, reason: asr.reason };
    return {
      generated_at: new Date().toISOString(),
      asr: asrState,
      canaries: list.map((c) => {
        const pairs = store.recentWindow(c.canary, judge.window);
        // A store read without the config does not know the baseline: name the one that served most.
        const served = Object.entries(pairs.reduce<Record<string, number>>((acc, p) => ((acc[p.servedModel] = (acc[p.servedModel] ?? 0) + 1), acc), {})).sort(
          (a, b) => b[1] - a[1],
        )[0]?.[0];
        const cfg = c.baseline === '?' ? { ...c, baseline: served ?? '?' } : c;
        return buildReport({
          config: cfg,
          thresholds: thresholdsFor(judge, cfg),
          pairs: c.baseline === '?' ? pairs.map((p) => ({ ...p, configuredBaseline: p.servedModel === cfg.baseline })) : pairs,
          counters: store.counters(c.canary),
          history: store.verdicts(c.canary),
          asr: asrState,
        });
      }),
    };
  } finally {
    store.close();
  }
}

async function main(): Promise<number> {
  let report: Report;
  if (values.url) {
    const res = await fetch(new URL('/v1/canary/report', values.url));
    if (!res.ok) throw new Error(`${values.url} answered ${res.status}`);
    report = (await res.json()) as Report;
  } else if (values.config) {
    const config = loadConfigFile(values.config);
    report = fromStore(values.store ?? config.canary_judge.store, config.canary_judge, config.canaries);
  } else if (values.store) {
    report = fromStore(values.store, CanaryJudgeSchema.parse({}), undefined);
  } else {
    exitWithUsage(CANARY_COMMAND, 'one of --url, --config or --store is required');
  }
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : renderTerminal(report, process.stdout.isTTY === true));
  return report.canaries.some((c) => c.verdict === 'rollback') ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`canary-report: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
