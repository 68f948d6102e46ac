/**
 * The load-generator PROCESS: `node --import tsx test/chaos/load/load-generator.ts SPEC.json`.
 * It runs apart from the cluster and the runner so its CPU and event loop never skew what they
 * measure. Open loop: request i starts at its scheduled time whether or not earlier ones have
 * finished (closed-loop clients hide overload; see coordinated omission). Bounded by the phases'
 * total duration, `max_requests` and `max_inflight`; it exits by itself when done.
 *
 * Output: one JSON line per request in `results_file`, then one summary line on stdout.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { audioProblem, classifyStatus } from './classify.ts';
import { LoadSpecSchema, type LoadSummary, type OutcomeClass, type RequestRecord } from './load-spec.ts';

const spec = LoadSpecSchema.parse(JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')));
const agent = new Agent({ connections: spec.max_inflight, keepAliveTimeout: 10_000, pipelining: 1 });
const records: RequestRecord[] = [];
// The client's own event-loop delay: if the generator was starved of CPU, its latencies and
// timeouts are suspect, and the summary says so.
const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();
const epoch = Date.now();
const t0 = performance.now();
let inflight = 0;
let sent = 0;

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function one(i: number): Promise<void> {
  const started = performance.now();
  const target = spec.targets[i % spec.targets.length]!;
  const key = spec.keys[i % spec.keys.length]!;
  const text = spec.texts[i % spec.texts.length]!;
  const rec: RequestRecord = {
    t: Math.round(started - t0),
    ms: 0,
    status: 0,
    outcome: 'ok',
    bytes: 0,
    ...(spec.targets.length > 1 ? { gw: i % spec.targets.length } : {}),
    ...(spec.keys.length > 1 ? { k: i % spec.keys.length } : {}),
  };
  try {
    const res = await request(`${target}${spec.path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...spec.headers },
      body: JSON.stringify(spec.path === '/v1/audio/speech' ? { model: 'tts-1', input: text, voice: 'alloy', ...spec.body } : { text, ...spec.body }),
      signal: AbortSignal.timeout(spec.timeout_ms),
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    rec.status = res.statusCode;
    rec.bytes = body.length;
    rec.outcome = classifyStatus(res.statusCode);
    rec.region = header(res.headers, 'x-region');
    rec.node = header(res.headers, 'x-node');
    const attempts = header(res.headers, 'x-attempts');
    if (attempts !== undefined) rec.attempts = Number(attempts);
    rec.degraded = header(res.headers, 'x-degraded');
    rec.version = header(res.headers, 'x-model-version');
    if (res.statusCode === 200) {
      const problem = audioProblem(header(res.headers, 'content-type'), header(res.headers, 'content-length'), body);
      if (problem) {
        rec.outcome = 'bad_audio';
        rec.detail = problem;
      }
    } else {
      if (res.statusCode === 429 || res.statusCode === 503) rec.retry_after = header(res.headers, 'retry-after') !== undefined;
      try {
        const json = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
        if (typeof json.error?.code === 'string') rec.code = json.error.code;
        if (typeof json.error?.message === 'string') rec.detail = json.error.message.slice(0, 200);
      } catch {
        rec.detail = body.subarray(0, 200).toString('utf8');
      }
    }
  } catch (error) {
    const err = error as { name?: string; code?: string; message?: string };
    const timedOut = err.name === 'TimeoutError' || err.code === 'UND_ERR_ABORTED';
    rec.outcome = (timedOut ? 'client_timeout' : 'net_error') satisfies OutcomeClass;
    rec.detail = `${err.code ?? err.name ?? 'error'}: ${err.message ?? ''}`.slice(0, 200);
  }
  rec.ms = Math.round((performance.now() - started) * 10) / 10;
  records.push(rec);
}

async function main(): Promise<void> {
  process.stdout.write(JSON.stringify({ msg: 'load started', epoch_ms: epoch }) + '\n');
  const pending = new Set<Promise<void>>();
  let phaseStart = 0;
  let i = 0;
  for (const phase of spec.phases) {
    const interval = phase.rps > 0 ? 1000 / phase.rps : Number.POSITIVE_INFINITY;
    let due = phaseStart;
    const phaseEnd = phaseStart + phase.duration_ms;
    while (due < phaseEnd && i < spec.max_requests) {
      const wait = due - (performance.now() - t0);
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      if (inflight >= spec.max_inflight) {
        records.push({ t: Math.round(performance.now() - t0), ms: 0, status: 0, outcome: 'client_saturated', bytes: 0 });
      } else {
        inflight++;
        sent++;
        const p = one(i).finally(() => {
          inflight--;
          pending.delete(p);
        });
        pending.add(p);
      }
      i++;
      due += interval;
    }
    phaseStart = phaseEnd;
    const idle = phaseStart - (performance.now() - t0);
    if (phase.rps === 0 && idle > 0) await new Promise((r) => setTimeout(r, idle));
  }
  await Promise.all(pending);
  writeFileSync(spec.results_file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  lag.disable();
  const summary: LoadSummary = {
    msg: 'load done',
    epoch_ms: epoch,
    sent,
    records: records.length,
    elapsed_ms: Math.round(performance.now() - t0),
    client_loop_delay_ms: { p99: Math.round(lag.percentile(99) / 1e6), max: Math.round(lag.max / 1e6) },
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  await agent.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`load generator failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
