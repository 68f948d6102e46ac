/**
 * Scenario 8: bad input — a few thousand generated malformed, oversized, wrongly encoded and
 * hostile requests (fast-check plus a hand-written corpus: invalid UTF-8, control characters,
 * 10 MB bodies, deep JSON, header injection, request smuggling, slowloris) from a separate
 * process. Only 4xx, never 5xx; no stack trace in any answer; the gateway's memory and latency
 * unchanged afterwards.
 * @module
 */
import { call, metricValue, percentile } from '../../harness/index.ts';
import { startChaosCluster, type ChaosCluster } from '../cluster/chaos-cluster.ts';
import type { HostileRecord } from '../load/hostile-client.ts';
import type { OutcomeClass, RequestRecord } from '../load/load-spec.ts';
import { runHostile } from '../load/run-hostile.ts';
import { chunkedUpload } from '../../regressions/support/hostile-socket.ts';
import { standardTopology, TEXTS, type Profile } from './common.ts';
import { check, type ScenarioResult } from './scenario.ts';

/** Retained memory (heap + external after a full GC) the second round may add. */
const ROUND_2_MAX_MB = 2;

function outcomeOf(r: HostileRecord): OutcomeClass {
  if (r.result === 'timeout') return 'client_timeout';
  if (r.result === 'error') return 'net_error';
  if (r.result !== 'status') return 'conn_closed';
  if (r.status < 300) return 'ok';
  if (r.status === 429) return '429';
  if (r.status === 503) return '503';
  if (r.status >= 500) return '5xx';
  return '4xx';
}

const GATEWAY_OUTCOMES = ['served', 'client_error', 'client_gone', 'shed', 'service_failure'] as const;

/** The gateway's own books: requests by outcome class and the 5xx counter the alert reads. */
async function books(url: string): Promise<{ outcomes: Record<(typeof GATEWAY_OUTCOMES)[number], number>; fivexx: number }> {
  const text = (await call(url, undefined, undefined, { method: 'GET', path: '/metrics' })).body.toString();
  const outcomes = Object.fromEntries(GATEWAY_OUTCOMES.map((o) => [o, metricValue(text, 'voxgate_gateway_outcomes_total', { outcome: o })])) as Record<
    (typeof GATEWAY_OUTCOMES)[number],
    number
  >;
  return { outcomes, fivexx: metricValue(text, 'voxgate_gateway_responses_5xx_total') };
}

/** p50 of `n` sequential valid requests: the gateway's latency before and after the attack. */
async function probe(url: string, n: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await call(url, 'demo-enterprise', { text: TEXTS[i % TEXTS.length] });
    if (r.status === 200) ms.push(r.ms);
  }
  return Math.round(percentile(ms, 50));
}

export async function badInput(profile: Profile, shared?: ChaosCluster): Promise<ScenarioResult> {
  const cluster = shared ?? (await startChaosCluster(standardTopology()));
  try {
    const gw = cluster.gateway;
    const probes = profile.short ? 6 : 20;
    const beforeMs = await probe(gw.url, probes);
    const memBefore = await gw.proc.retainedMemory();
    const booksBefore = await books(gw.url);
    const spec = {
      target: gw.url,
      key: 'demo-free',
      // The slowloris is another tenant: its slow bodies hold that tenant's upload slots, not the corpus's.
      slow_key: 'demo-pro',
      generated: profile.short ? 700 : 2_000,
      seed: 7,
      slow: profile.short ? 10 : 40,
      slow_gap_ms: 200,
      slow_bytes: profile.short ? 15 : 40,
      concurrency: 12,
    };
    // Two rounds of the same kind: the first may fill bounded caches once, but a leak keeps
    // rising, so the second must add (almost) nothing to what the gateway holds after a full GC.
    const first = runHostile(spec);
    const started = Date.now();
    const records1 = await first.done;
    const memMid = await gw.proc.retainedMemory();
    const midS = (Date.now() - started) / 1000;
    const records2 = await runHostile({ ...spec, seed: spec.seed + 1 }).done;
    const records = [...records1, ...records2.map((r) => ({ ...r, t: r.t + Math.round(midS * 1000) }))];
    const attackMs = Date.now() - started;
    // Valid traffic right after the attack, with the slow connections gone.
    const afterMs = await probe(gw.url, probes);
    const memAfter = await gw.proc.retainedMemory();
    const alive = (await call(gw.url, undefined, undefined, { method: 'GET', path: '/healthz' })).status === 200;
    // The corpus's over-long chunked body usually meets a spent rate limit (429 before the body);
    // once more on a key with tokens left, it must get its 413 before the connection closes.
    const chunked413 = await chunkedUpload({ url: gw.url, path: '/v1/synthesize', headers: { authorization: 'Bearer demo-enterprise' } }, 80 * 1024);
    const booksAfter = await books(gw.url);
    const fivexxDelta = booksAfter.fivexx - booksBefore.fivexx;
    const outcomeDelta = Object.fromEntries(GATEWAY_OUTCOMES.map((o) => [o, booksAfter.outcomes[o] - booksBefore.outcomes[o]])) as Record<
      (typeof GATEWAY_OUTCOMES)[number],
      number
    >;

    const rec: RequestRecord[] = records.map((r) => ({
      t: r.t,
      ms: r.ms,
      status: r.status,
      outcome: outcomeOf(r),
      bytes: 0,
      ...(r.sample ? { detail: `${r.name}: ${r.sample.slice(0, 120)}` } : { detail: r.name }),
    }));
    const fiveXx = records.filter((r) => r.status >= 500);
    const hangUps = records.filter((r) => r.name.startsWith('client leaves mid-body') || r.name.startsWith('malformed chunk'));
    const over413 = records.filter((r) => r.name.startsWith('chunked body over the limit'));
    const leaks = records.filter((r) => r.leak);
    const nonSlow = records.filter((r) => r.kind !== 'slow');
    const hangs = nonSlow.filter((r) => r.result === 'timeout');
    // A connection closed without an answer is fine for protocol garbage (raw cases) and for
    // oversized uploads (the server answers 413 and closes while the client is still writing).
    const closedHttp = nonSlow.filter((r) => r.kind === 'http' && !r.big && (r.result === 'error' || r.result === 'closed'));
    const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    const growthMb = mb(memAfter.retained - memBefore.retained);
    const secondRoundMb = mb(memAfter.retained - memMid.retained);
    const by = (pred: (r: HostileRecord) => boolean) => records.filter(pred).length;
    return {
      id: '8',
      title: 'Bad input',
      claim: "only 4xx, never 5xx; the gateway's memory and latency unchanged afterwards",
      epochMs: first.epochMs,
      records: rec,
      faults: [
        { label: 'hostile client, round 1', startS: 0, endS: Math.round(midS * 10) / 10 },
        { label: 'round 2', startS: Math.round(midS * 10) / 10, endS: Math.round(attackMs / 100) / 10 },
      ],
      samples: [
        { t: 0, rss: { 'gateway:north': memBefore.rss } },
        { t: midS, rss: { 'gateway:north': memMid.rss } },
        { t: attackMs / 1000, rss: { 'gateway:north': memAfter.rss } },
      ],
      checks: [
        check(
          'never a 5xx',
          fiveXx.length === 0,
          fiveXx.length === 0
            ? `0 of ${records.length}`
            : fiveXx
                .slice(0, 3)
                .map((r) => `${r.name} → ${r.status} ${r.sample?.slice(0, 100) ?? ''}`)
                .join('; '),
        ),
        check(
          'no stack trace or source path in any answer',
          leaks.length === 0,
          leaks.length === 0
            ? `0 of ${records.length}`
            : leaks
                .slice(0, 2)
                .map((r) => `${r.name}: ${r.sample?.slice(0, 120)}`)
                .join('; '),
        ),
        check(
          'no request left hanging (slowloris excepted)',
          hangs.length === 0,
          hangs.length === 0
            ? '0'
            : hangs
                .slice(0, 5)
                .map((r) => r.name)
                .join('; '),
        ),
        check(
          'structured requests (uploads ≤ 1 MiB) get an HTTP answer',
          closedHttp.length === 0,
          closedHttp.length === 0
            ? '0 closed without answer'
            : closedHttp
                .slice(0, 4)
                .map((r) => `${r.name}: ${r.sample}`)
                .join('; '),
        ),
        check('gateway alive afterwards', alive, alive ? '/healthz 200' : '/healthz failed'),
        check(
          "the gateway's 5xx counter unchanged by the whole hostile run",
          fivexxDelta === 0,
          `voxgate_gateway_responses_5xx_total +${fivexxDelta}; by outcome: ${GATEWAY_OUTCOMES.map((o) => `${o} +${outcomeDelta[o]}`).join(', ')}`,
        ),
        check('no request booked as a service failure', outcomeDelta.service_failure === 0, `service_failure +${outcomeDelta.service_failure}`),
        check(
          'hang-ups mid-body and broken framing booked as client_gone',
          outcomeDelta.client_gone >= hangUps.length,
          `${hangUps.length} cases; client_gone +${outcomeDelta.client_gone}`,
        ),
        // Admission comes before the body, so once the attack has spent the key's rate limit these
        // are answered 429 before their body is read: either is an answer, never a bare close.
        check(
          'a chunked body over the limit gets its 413 (429 when the key is already rate-limited)',
          /^HTTP\/1\.1 413 /.test(chunked413) && over413.every((r) => r.status === 413 || r.status === 429),
          `${chunked413.slice(0, 12) || 'no answer'}; in the corpus: ${over413.map((r) => `${r.status || r.result}`).join(', ')}`,
        ),
        check(
          `no memory growth from a second attack (retained after GC, ≤ ${ROUND_2_MAX_MB} MB)`,
          secondRoundMb <= ROUND_2_MAX_MB,
          `${secondRoundMb} MB in round 2; ${growthMb} MB in all (${mb(memBefore.retained)} → ${mb(memMid.retained)} → ${mb(memAfter.retained)} MB; RSS ${mb(memBefore.rss)} → ${mb(memMid.rss)} → ${mb(memAfter.rss)} MB)`,
        ),
        check('valid-request p50 unchanged (≤ 1.5× + 100 ms)', afterMs <= beforeMs * 1.5 + 100, `${beforeMs} ms before, ${afterMs} ms after`),
      ],
      figures: {
        cases: records.length,
        answered_2xx: by((r) => r.result === 'status' && r.status < 300),
        answered_4xx: by((r) => r.status >= 400 && r.status < 500),
        closed_without_answer_raw: by((r) => r.kind === 'raw' && r.result !== 'status'),
        slowloris_connections: by((r) => r.kind === 'slow'),
        slowloris_still_open_at_end: by((r) => r.kind === 'slow' && r.result === 'open'),
        p50_before_ms: beforeMs,
        p50_after_ms: afterMs,
        gateway_retained_growth_mb: growthMb,
        gateway_retained_growth_round_2_mb: secondRoundMb,
        gateway_rss_growth_mb: mb(memAfter.rss - memBefore.rss),
        attack_s: Math.round(attackMs / 100) / 10,
        gateway_5xx_counter_delta: fivexxDelta,
        ...Object.fromEntries(GATEWAY_OUTCOMES.map((o) => [`gateway_${o}`, outcomeDelta[o]])),
      },
    };
  } finally {
    if (!shared) await cluster.close();
  }
}
