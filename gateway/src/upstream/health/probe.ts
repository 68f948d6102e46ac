/**
 * One active health probe of one node: `GET /readyz` and `GET /v1/load` in parallel through the
 * node's pool, bounded by a timeout. Never throws: the result says what was seen.
 * @module
 */
import type { Pool } from 'undici';
import type { AttemptSignal } from '../../core/try-signal.ts';
import type { Clock } from '../../lifecycle/clock.ts';
import type { NodeLoad } from '../endpoints.ts';

export interface ProbeResult {
  ok: boolean;
  /** The node said it is draining: fail at once instead of waiting for the threshold. */
  draining: boolean;
  /** The connection was refused: the process is gone. */
  refused: boolean;
  load?: NodeLoad;
  error?: string;
}

async function getJson(pool: Pool, path: string, signal: AttemptSignal): Promise<{ status: number; json: unknown }> {
  // undici takes any EventTarget-like signal (aborted, reason, add/removeEventListener); its
  // types name only AbortSignal and EventEmitter.
  const res = await pool.request({ method: 'GET', path, signal: signal as unknown as AbortSignal });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json };
}

function num(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : d;
}

/**
 * @example
 * const r = await probe(pools.get(node.url), 500, clock);
 * if (r.ok) node.load = r.load;
 */
export async function probe(pool: Pool, timeoutMs: number, clock: Clock): Promise<ProbeResult> {
  const now = clock.now();
  const signal = clock.timeoutSignal(timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`));
  try {
    const [ready, load] = await Promise.all([getJson(pool, '/readyz', signal), getJson(pool, '/v1/load', signal)]);
    const l = (load.json ?? {}) as Record<string, unknown>;
    const nodeLoad: NodeLoad | undefined =
      load.status === 200
        ? {
            ready: l['ready'] === true,
            draining: l['draining'] === true,
            slots: num(l['slots'], 1),
            inflight: num(l['inflight'], 0),
            queueDepth: num(l['queue_depth'], 0),
            queueLimit: num(l['queue_limit'], Number.POSITIVE_INFINITY),
            latencyEwmaMs: num(l['latency_ewma_ms'], 0),
            ...(Array.isArray(l['models'])
              ? {
                  packs: (l['models'] as unknown[]).map((m) => (m as { name?: unknown })?.name).filter((n): n is string => typeof n === 'string'),
                  packVersions: Object.fromEntries(
                    (l['models'] as { name?: unknown; version?: unknown }[])
                      .filter((m) => typeof m?.name === 'string' && typeof m.version === 'string')
                      .map((m) => [m.name as string, m.version as string]),
                  ),
                }
              : {}),
            ...outputSampleRates(l['output_sample_rates']),
            at: now,
          }
        : undefined;
    const draining = nodeLoad?.draining === true;
    return { ok: ready.status === 200 && nodeLoad !== undefined && !draining, draining, refused: false, ...(nodeLoad ? { load: nodeLoad } : {}) };
  } catch (err) {
    const code = (err as { code?: string })?.code;
    return { ok: false, draining: false, refused: code === 'ECONNREFUSED', error: (err as Error)?.message ?? String(err) };
  } finally {
    signal.dispose();
  }
}

function outputSampleRates(v: unknown): Pick<NodeLoad, 'outputSampleRates'> {
  const r = v as { min?: unknown; max?: unknown } | undefined;
  return typeof r?.min === 'number' && typeof r.max === 'number' ? { outputSampleRates: { min: r.min, max: r.max } } : {};
}
