/**
 * Client aborts: 200 clients that hang up mid-body, then wrk runs whose end closes every
 * connection mid-body, against the raw proxy (baseline) and the gateway. The upstream streams
 * 1 MiB in 16 chunks 5 ms apart, so every hang-up lands while the proxy is still copying.
 *
 * Pass: the process is alive and still serves, and no upstream socket leaks: once the dust
 * settles the upstream has zero responses in progress (each abort reached it), and the proxy's
 * open file descriptors are back within its keep-alive pool of where they started.
 * @module
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_KEY } from './config.ts';
import { benchBodies } from './bodies.ts';
import { sanityCheck, upstreamStats, type Target, type TargetSet } from './targets.ts';
import { runLoad } from '../lib/load.ts';
import { alive, fdCount } from '../lib/proc.ts';
import type { Progress } from '../lib/progress.ts';

export interface AbortResult {
  target: string;
  clients: number;
  /** Clients that saw body bytes before hanging up (the rest hung up earlier). */
  abortedMidBody: number;
  wrkRuns: number;
  alive: boolean;
  servesAfter: boolean;
  /** Upstream responses still in progress after the settle window: leaked upstream requests. */
  upstreamActiveAfter: number;
  upstreamSocketsBefore: number;
  upstreamSocketsAfter: number;
  fdsBefore: number;
  fdsAfter: number;
  upstreamAbortsSeen: number;
  settleMs: number;
}

/** One client: send the request, read until `afterBytes` body bytes arrived, then destroy. */
function abortingClient(url: string, body: string, afterBytes: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(u.port), u.hostname);
    let got = 0;
    let sawBody = false;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(sawBody);
    }, 5_000);
    sock.on('connect', () => {
      sock.write(
        `POST /v1/synthesize HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${BENCH_KEY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got > afterBytes) {
        sawBody = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(true);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(sawBody);
    });
  });
}

async function settle(upstreamUrl: string, maxMs: number): Promise<{ active: number; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const s = await upstreamStats(upstreamUrl);
    if (s.active === 0 || Date.now() - t0 > maxMs) return { active: s.active, ms: Date.now() - t0 };
    await sleep(100);
  }
}

export async function runAborts(set: TargetSet, o: { clients: number; wrkRuns: number; progress: Progress; targets?: string[] }): Promise<AbortResult[]> {
  const bodies = benchBodies();
  const out: AbortResult[] = [];
  const upstream = set.primary.url;
  const targets: Target[] = set.targets.filter((t) => (o.targets ?? ['raw', 'gateway']).includes(t.name));
  for (const t of targets) {
    await set.configure({ size: 1_048_576, delayMs: 0, jitterMs: 0, chunks: 16, chunkGapMs: 5, failRate: 0 });
    await settle(upstream, 3_000);
    const before = await upstreamStats(upstream);
    const fdsBefore = fdCount(t.pid);
    o.progress.begin(`aborts · ${t.name} · ${o.clients} clients hang up mid-body, then ${o.wrkRuns} wrk runs ending mid-body`);
    let mid = 0;
    const wave = 50;
    for (let i = 0; i < o.clients; i += wave) {
      const n = Math.min(wave, o.clients - i);
      const r = await Promise.all(Array.from({ length: n }, (_, k) => abortingClient(t.url, bodies[(i + k) % bodies.length]!, 16_384)));
      mid += r.filter(Boolean).length;
    }
    for (let i = 0; i < o.wrkRuns; i++)
      await runLoad({ url: t.url, connections: 64, durationS: 1, bodies, headers: { authorization: `Bearer ${BENCH_KEY}` }, timeoutS: 5 }).catch(
        () => undefined,
      );
    const settled = await settle(upstream, 5_000);
    // Idle keep-alive sockets may linger; give the proxy a moment to close destroyed ones.
    await sleep(300);
    const after = await upstreamStats(upstream);
    const isAlive = alive(t.pid);
    let servesAfter = false;
    if (isAlive) {
      await set.configure({ size: 65_536, chunks: 1, chunkGapMs: 0 });
      try {
        await sanityCheck([t], bodies[0]!, 65_536);
        servesAfter = true;
      } catch {
        servesAfter = false;
      }
    }
    const res: AbortResult = {
      target: t.name,
      clients: o.clients,
      abortedMidBody: mid,
      wrkRuns: o.wrkRuns,
      alive: isAlive,
      servesAfter,
      upstreamActiveAfter: settled.active,
      upstreamSocketsBefore: before.connections,
      upstreamSocketsAfter: after.connections,
      fdsBefore,
      fdsAfter: fdCount(t.pid),
      upstreamAbortsSeen: after.aborted - before.aborted,
      settleMs: settled.ms,
    };
    out.push(res);
    o.progress.end(
      `${isAlive && servesAfter ? 'alive and serving' : 'CRASHED or not serving'}; upstream in progress after: ${settled.active}; upstream sockets ${before.connections}→${after.connections}; fds ${fdsBefore}→${res.fdsAfter}`,
    );
  }
  await set.configure({ size: 65_536, chunks: 1, chunkGapMs: 0 });
  return out;
}
