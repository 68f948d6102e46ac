/**
 * Client helpers for tests and benchmarks: one synthesis call (undici, body read whole, with the
 * headers that matter), a bounded closed-loop load runner and percentiles.
 * @module
 */
import { request, Agent } from 'undici';

const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000 });

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json: unknown;
  ms: number;
  /** Epoch ms when the call started / ended. */
  start: number;
  end: number;
  /** Transport failure (reset, refused): no HTTP status. */
  error?: string;
}

export interface CallOptions {
  path?: string;
  headers?: Record<string, string>;
  method?: string;
  /** Raw body; when absent `body` is JSON-encoded. */
  raw?: string | Buffer;
  signal?: AbortSignal;
}

export async function call(baseUrl: string, key: string | undefined, body: unknown, opts: CallOptions = {}): Promise<CallResult> {
  const start = Date.now();
  const t0 = performance.now();
  try {
    const res = await request(`${baseUrl}${opts.path ?? '/v1/synthesize'}`, {
      method: (opts.method ?? 'POST') as 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...opts.headers },
      body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const buf = Buffer.from(await res.body.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    let json: unknown;
    if ((headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(buf.toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    return { status: res.statusCode, headers, body: buf, json, ms: performance.now() - t0, start, end: Date.now() };
  } catch (err) {
    return {
      status: 0,
      headers: {},
      body: Buffer.alloc(0),
      json: undefined,
      ms: performance.now() - t0,
      start,
      end: Date.now(),
      error: String((err as Error)?.message ?? err),
    };
  }
}

export function synthesize(baseUrl: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(baseUrl, key, body, { headers });
}

export interface LoadOptions {
  concurrency: number;
  /** Stop after this many calls in total… */
  total?: number;
  /** …or after this long. */
  durationMs?: number;
  /** One call; `i` is the call's index. */
  fn: (i: number) => Promise<CallResult>;
  /** Pause between a worker's calls. */
  thinkMs?: number;
  /** Stops issuing new calls once aborted. */
  signal?: AbortSignal;
}

/** Closed-loop load: `concurrency` workers issue calls back to back. Bounded by total or time. */
export async function runLoad(o: LoadOptions): Promise<CallResult[]> {
  const results: CallResult[] = [];
  const until = o.durationMs !== undefined ? Date.now() + o.durationMs : Number.POSITIVE_INFINITY;
  const total = o.total ?? Number.POSITIVE_INFINITY;
  let next = 0;
  const worker = async () => {
    while (next < total && Date.now() < until && !o.signal?.aborted) {
      const i = next++;
      results.push(await o.fn(i));
      if (o.thinkMs) await new Promise((r) => setTimeout(r, o.thinkMs));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return results;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

export async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { dispatcher: agent });
  return res.body.json();
}

export async function getText(url: string): Promise<string> {
  const res = await request(url, { dispatcher: agent });
  return res.body.text();
}

/** Polls `pred` every `everyMs` until true or `timeoutMs`; returns the elapsed ms. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 50): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await pred()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Sum of a Prometheus counter's samples matching all the given labels. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const lbl: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)) lbl[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => lbl[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
