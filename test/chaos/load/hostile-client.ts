/**
 * The hostile-client PROCESS for scenario 8:
 * `node --import tsx test/chaos/load/hostile-client.ts SPEC.json`. Sends the bad-input corpus,
 * a few thousand fast-check-generated malformed requests and a handful of slowloris connections
 * at the gateway, from outside it, and writes one JSON line per case. Bounded: every case has a
 * timeout, slow clients stop after their last byte, and the process exits by itself.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { corpus, generated, slowCases, type HttpCase, type RawCase } from './hostile-cases.ts';

const SpecSchema = z
  .object({
    target: z.string().regex(/^http:\/\/127\.0\.0\.1:\d+$/),
    key: z.string().min(1),
    /**
     * The slowloris tenant. Admission takes a tenant's slots before its body arrives, so slow
     * uploads starve their own tenant: on the corpus key they would turn the corpus into 429s.
     */
    slow_key: z.string().min(1).optional(),
    generated: z.number().int().min(0).max(20_000),
    seed: z.number().int(),
    slow: z.number().int().min(0).max(200),
    slow_gap_ms: z.number().int().positive().max(5_000),
    slow_bytes: z.number().int().positive().max(200),
    concurrency: z.number().int().positive().max(64),
    results_file: z.string().min(1),
  })
  .strict();

export interface HostileRecord {
  t: number;
  ms: number;
  name: string;
  kind: 'http' | 'raw' | 'slow';
  /** HTTP status, or 0 when none came back. */
  status: number;
  /** `status`: an answer; `closed`: the server closed without one; `open`: still waiting when we left (slow clients); `error`: transport error. */
  result: 'status' | 'closed' | 'open' | 'timeout' | 'error' | 'aborted';
  /** The answer leaked a stack trace or a source path. */
  leak: boolean;
  /** The upload was over 1 MiB: the server may answer 413 and close while we still write. */
  big?: boolean;
  sample?: string;
}

const spec = SpecSchema.parse(JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')));
const url = new URL(spec.target);
const agent = new Agent({ connections: spec.concurrency, keepAliveTimeout: 5_000 });
const t0 = performance.now();
const records: HostileRecord[] = [];
/** What a stack trace or a source location looks like in a response. */
const LEAK = /\n\s+at\s|\bat\s+\S+\s+\(\S+:\d+:\d+\)|\.ts:\d+|node_modules|\/work\/|file:\/\//;

async function sendHttp(c: HttpCase): Promise<void> {
  const started = performance.now();
  const rec: HostileRecord = { t: Math.round(started - t0), ms: 0, name: c.name, kind: 'http', status: 0, result: 'status', leak: false };
  if (c.body !== undefined && c.body.length > 1024 * 1024) rec.big = true;
  try {
    const res = await request(`${spec.target}${c.path ?? '/v1/synthesize'}`, {
      method: (c.method ?? 'POST') as 'POST',
      headers: c.headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
      dispatcher: agent,
      // A fresh connection per case: a server that (rightly) closes after one hostile request
      // must not make the next case on a reused socket look unanswered.
      reset: true,
      signal: AbortSignal.timeout(15_000),
    });
    const text = Buffer.from(await res.body.arrayBuffer())
      .subarray(0, 64 * 1024)
      .toString('utf8');
    rec.status = res.statusCode;
    rec.leak = res.statusCode !== 200 && LEAK.test(text + JSON.stringify(res.headers));
    if (res.statusCode !== 200) rec.sample = text.slice(0, 300);
  } catch (error) {
    const err = error as { name?: string; code?: string; message?: string };
    rec.result = err.name === 'TimeoutError' ? 'timeout' : 'error';
    rec.sample = `${err.code ?? err.name}: ${err.message ?? ''}`.slice(0, 200);
  }
  rec.ms = Math.round(performance.now() - started);
  records.push(rec);
}

function sendRaw(c: RawCase, kind: 'raw' | 'slow'): Promise<void> {
  const started = performance.now();
  const rec: HostileRecord = { t: Math.round(started - t0), ms: 0, name: c.name, kind, status: 0, result: 'closed', leak: false };
  return new Promise<void>((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: HostileRecord['result']): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      const text = Buffer.concat(chunks)
        .subarray(0, 64 * 1024)
        .toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      rec.status = m ? Number(m[1]) : 0;
      rec.result = m ? 'status' : result;
      rec.leak = LEAK.test(text);
      if (text) rec.sample = text.slice(0, 300);
      rec.ms = Math.round(performance.now() - started);
      records.push(rec);
      socket.destroy();
      resolve();
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish(chunks.length > 0 ? 'closed' : 'error'));
    const gap = c.gapMs ?? 0;
    c.chunks.forEach((chunk, i) => {
      timers.push(
        setTimeout(() => {
          if (finished || socket.destroyed) return;
          socket.write(chunk);
          if (i === c.chunks.length - 1 && c.abort)
            timers.push(
              setTimeout(() => {
                if (c.reset) socket.resetAndDestroy();
                finish('aborted');
              }, 50),
            );
        }, i * gap),
      );
    });
    // After the last byte: an answer within 10 s, else the server is (legitimately) still waiting.
    timers.push(setTimeout(() => finish(kind === 'slow' ? 'open' : 'timeout'), c.chunks.length * gap + 10_000));
  });
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const slow = Promise.all(slowCases(spec.slow_key ?? spec.key, spec.slow, spec.slow_gap_ms, spec.slow_bytes).map((c) => sendRaw(c, 'slow')));
  const all = [...corpus(spec.key), ...generated(spec.key, spec.generated, spec.seed)];
  await pool(all, spec.concurrency, (c) => (c.kind === 'http' ? sendHttp(c) : sendRaw(c, 'raw')));
  await slow;
  writeFileSync(spec.results_file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  process.stdout.write(JSON.stringify({ msg: 'hostile done', cases: records.length, elapsed_ms: Math.round(performance.now() - t0) }) + '\n');
  await agent.destroy();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`hostile client failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
