/**
 * Scenario 11: mid-stream kill — the node streaming a response is SIGKILLed while the client is
 * receiving it, 20 times in a row (a supervisor restarts each victim before the next round).
 * The packs are deterministic, so the gateway resumes the segment on another node at the sample
 * the client already has: every stream must arrive complete, its PCM identical to an
 * uninterrupted reference, and every format must decode with ffmpeg.
 * @module
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { REPO_ROOT } from '../../harness/index.ts';
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import type { Profile } from './common.ts';
import { check, type ScenarioResult } from './scenario.ts';
import type { RequestRecord } from '../load/load-spec.ts';

const SIM_STREAM_DIR = path.join(REPO_ROOT, 'test/fixtures/models/sim-stream');
const FORMATS = ['pcm', 'wav', 'mp3', 'opus', 'aac', 'flac'] as const;
const OUTPUT_RATE = 24_000;
const TEXT = 'A stream that must survive its node. '.repeat(22).trim();

function decode(bytes: Buffer, format: string): Buffer | undefined {
  const input = format === 'pcm' ? ['-f', 's16le', '-ar', String(OUTPUT_RATE), '-ac', '1'] : [];
  const r = spawnSync('ffmpeg', ['-v', 'error', ...input, '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(OUTPUT_RATE), 'pipe:1'], {
    input: bytes,
    maxBuffer: 64 * 2 ** 20,
  });
  return r.status === 0 && r.stderr.length === 0 ? r.stdout : undefined;
}

interface Streamed {
  status: number;
  bytes: Buffer;
  node: string;
  complete: boolean;
  resumes: number;
  ms: number;
  error?: string;
}

async function stream(base: string, format: string, onBytes?: (got: number, node: string) => void): Promise<Streamed> {
  const t0 = performance.now();
  let res;
  try {
    res = await request(`${base}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-pro' },
      body: JSON.stringify({ text: TEXT, format, seed: 1234 }),
    });
  } catch (err) {
    return {
      status: 0,
      bytes: Buffer.alloc(0),
      node: '',
      complete: false,
      resumes: 0,
      ms: performance.now() - t0,
      error: `before headers: ${(err as Error).message}`,
    };
  }
  const node = String(res.headers['x-node'] ?? '');
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of res.body) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      onBytes?.(got, node);
    }
    return {
      status: res.statusCode,
      bytes: Buffer.concat(parts),
      node,
      complete: true,
      resumes: Number(res.trailers['x-resumes'] ?? 0),
      ms: performance.now() - t0,
    };
  } catch (err) {
    return {
      status: res.statusCode,
      bytes: Buffer.concat(parts),
      node,
      complete: false,
      resumes: 0,
      ms: performance.now() - t0,
      error: (err as Error).message,
    };
  }
}

export async function midStreamKill(profile: Profile): Promise<ScenarioResult> {
  const rounds = profile.short ? 6 : 20;
  const cluster = await startChaosCluster({
    regions: [{ name: 'north', nodes: 3 }],
    node: { slots: 4, queue: 8, modelsDir: SIM_STREAM_DIR },
    gateway: {
      models: [
        { id: 'sim-hd', role: 'primary', engine: 'sim', pack: 'sim-stream', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
        // The same pack for both roles: on a loaded machine a late health probe can make the plan
        // pick the fallback for one request; the splice is what is judged here, not the routing.
        { id: 'sim-fast', role: 'fallback', engine: 'sim', pack: 'sim-stream', languages: ['en'], voices: ['alto', 'tenor'], default_voice: 'alto' },
      ],
      plans: { pro: { policy: 'primary_always', long_text: 'segment', max_text_chars: 3000, parallel_segments: 2, timeout_ms: 30_000 } },
      stream: { max_segment_chars: 300 },
    },
  });
  const epochMs = Date.now();
  const records: RequestRecord[] = [];
  const faults: ScenarioResult['faults'] = [];
  try {
    const base = cluster.gateway.url;
    // Until the gateway has seen every node's load report it may plan the fallback model (no
    // primary known to be available): warm up until the primary serves, so the references are its.
    for (let i = 0; i < 20; i++) {
      const res = await request(`${base}/v1/synthesize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer demo-pro' },
        body: JSON.stringify({ text: 'Warm up.', format: 'pcm' }),
      });
      await res.body.arrayBuffer();
      if (res.headers['x-model'] === 'sim-hd') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Per format: the uninterrupted stream's decoded PCM and its size on the wire.
    const reference = new Map<string, { pcm: Buffer | undefined; bytes: number }>();
    for (const f of FORMATS) {
      const r = await stream(base, f);
      reference.set(f, { pcm: r.complete && r.status === 200 ? decode(r.bytes, f) : undefined, bytes: r.bytes.length });
    }
    const results: (Streamed & { format: string; identical: boolean; decodable: boolean; victim: string })[] = [];
    for (let i = 0; i < rounds; i++) {
      const format = FORMATS[i % FORMATS.length]!;
      let killing: Promise<void> | undefined;
      let victim = '';
      const started = Date.now();
      // The first of the answer's four segments is a quarter of its audio: once 5 % of the
      // answer's bytes are through, that segment is still mid-stream on its node — kill that node.
      // (A threshold in bytes per format went stale: flac of the sim's tone compressed so well
      // that 20 KB arrived only after the first segment had ended, and nothing was left to resume.)
      const threshold = Math.max(1, Math.floor((reference.get(format)?.bytes ?? 0) * 0.05));
      const r = await stream(base, format, (got, node) => {
        if (killing || got < threshold) return;
        victim = node;
        faults.push({ label: `SIGKILL ${node}`, startS: (Date.now() - epochMs) / 1000 });
        killing = cluster.node(node).kill();
      });
      await killing;
      const pcm = r.complete ? decode(r.bytes, format) : undefined;
      const ref = reference.get(format)?.pcm;
      results.push({ ...r, format, victim, decodable: pcm !== undefined, identical: pcm !== undefined && ref !== undefined && pcm.equals(ref) });
      records.push({
        t: started - epochMs,
        ms: r.ms,
        status: r.status,
        outcome: r.complete && r.status === 200 && pcm ? 'ok' : 'conn_closed',
        bytes: r.bytes.length,
        node: r.node,
        ...(r.error ? { detail: r.error } : {}),
      });
      // The supervisor brings the victim back before the next round.
      if (victim) await cluster.node(victim).restart();
    }
    const complete = results.filter((r) => r.complete && r.status === 200).length;
    const killed = results.filter((r) => r.victim !== '').length;
    const resumed = results.filter((r) => r.resumes > 0).length;
    const identical = results.filter((r) => r.identical).length;
    const decodable = results.filter((r) => r.decodable).length;
    return {
      id: '11',
      title: 'Mid-stream kill',
      claim: `${rounds} kills of the serving node mid-stream → ${rounds} complete streams, PCM identical to the reference, every format decodable`,
      epochMs,
      records,
      faults,
      samples: [],
      figures: {
        rounds,
        killed,
        complete,
        resumed,
        identical,
        decodable,
        formats: FORMATS.join(' '),
        failures:
          results
            .filter((r) => !r.complete || !r.identical)
            .map((r) => `${r.format}: ${r.error ?? 'differs'}`)
            .join('; ') || 'none',
        gateway_errors:
          cluster.gateway.proc.logs
            .filter((l) => (l.level ?? 0) >= 50)
            .map((l) => String((l as { msg?: string }).msg))
            .slice(-3)
            .join('; ') || 'none',
      },
      checks: [
        check('every round killed its serving node mid-stream', killed === rounds, `${killed} of ${rounds}`),
        check(
          'every stream complete',
          complete === rounds,
          `${complete} of ${rounds}${results.find((r) => !r.complete)?.error ? `; e.g. ${results.find((r) => !r.complete)!.error}` : ''}`,
        ),
        check('every stream resumed elsewhere', resumed === killed, `${resumed} of ${killed}`),
        check('every format decodes with ffmpeg', decodable === rounds, `${decodable} of ${rounds}`),
        check(
          'decoded PCM identical to the uninterrupted reference',
          identical === rounds,
          `${identical} of ${rounds}: ${
            results
              .filter((r) => !r.identical)
              .map((r) => r.format)
              .join(',') || 'all'
          }`,
        ),
      ],
    };
  } finally {
    await cluster.close();
  }
}
