/**
 * A small real HTTP server on 127.0.0.1 that answers `POST /v1/synthesize` with the framed
 * stream of protocol/frames.ts, with faults on demand (die, stall, error frame, bad checksum).
 * Why not real node runtimes: these unit tests pin the gateway's reading of the protocol and its
 * failover arithmetic sample by sample, which needs faults at exact sample positions; the
 * end-to-end behaviour with real node-runtime processes (sim engine faults) is in
 * test/scenarios/streaming*.test.ts.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { audioFrame, endFrame, errorFrame, FRAMES_CONTENT_TYPE, StreamChecksum } from '../../../../protocol/frames.ts';

export const SAMPLE_RATE = 8000;
export const SAMPLES_PER_CHAR = 80;
const CHUNK = 400;

export interface Fault {
  /** After this many samples of the response, do the fault. */
  afterSamples: number;
  /** `drip`: from then on a chunk every `dripMs` (slower than real time, never a whole stall). */
  kind: 'die' | 'stall' | 'error' | 'bad_crc' | 'drip';
  dripMs?: number;
  /** Only for requests whose text contains this (default: any). */
  textIncludes?: string;
}

export interface NodeRequestLog {
  body: { text: string; seed?: number; offset_samples?: number; stream?: boolean; model?: string };
  closedEarly: boolean;
  finished: boolean;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The whole rendering of `text` with `seed` (what a deterministic node answers). */
export function reference(text: string, seed: number, nonce = 0): Int16Array {
  const n = text.length * SAMPLES_PER_CHAR;
  const base = hash(`${seed}:${text}`) + nonce;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = ((base + i * 7919) % 20000) - 10000;
  return out;
}

export class FrameNode {
  readonly requests: NodeRequestLog[] = [];
  faults: Fault[] = [];
  /** Non-deterministic: each request renders with its own nonce (x-deterministic: false). */
  deterministic = true;
  chunkDelayMs = 1;
  /** Waits this long before the first audio frame. */
  firstChunkDelayMs = 0;
  /** Sends the end frame, then waits this long before ending the HTTP body (0: both at once). */
  endDelayMs = 0;
  private nonce = 0;
  private constructor(
    readonly id: string,
    private readonly server: Server,
  ) {}

  static async start(id: string): Promise<FrameNode> {
    const server = createServer();
    const node = new FrameNode(id, server);
    server.on('request', (req, res) => void node.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as NodeRequestLog['body'];
    const log: NodeRequestLog = { body, closedEarly: false, finished: false };
    this.requests.push(log);
    res.on('close', () => {
      if (!log.finished) log.closedEarly = true;
    });
    const nonce = this.deterministic ? 0 : ++this.nonce;
    const pcm = reference(body.text, body.seed ?? 0, nonce).subarray(body.offset_samples ?? 0);
    const fault = this.faults.find((f) => f.textIncludes === undefined || body.text.includes(f.textIncludes));
    if (fault) this.faults.splice(this.faults.indexOf(fault), 1);
    res.writeHead(200, {
      'content-type': FRAMES_CONTENT_TYPE,
      'x-sample-rate': String(SAMPLE_RATE),
      'x-deterministic': String(this.deterministic),
      'x-node': this.id,
      'x-model': body.model ?? '',
    });
    const sum = new StreamChecksum();
    if (this.firstChunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.firstChunkDelayMs));
    for (let at = 0; at < pcm.length; at += CHUNK) {
      if (res.destroyed) return;
      if (fault && at >= fault.afterSamples) {
        if (fault.kind === 'die') return void res.socket?.destroy();
        if (fault.kind === 'stall') return; // never another byte; the socket stays open
        if (fault.kind === 'error') {
          log.finished = true;
          return void res.end(errorFrame({ code: 'engine_failed', message: 'simulated', retryable: true }));
        }
      }
      const part = pcm.subarray(at, Math.min(pcm.length, at + CHUNK));
      const frame = audioFrame(part);
      sum.add(frame.subarray(5));
      if (!res.write(frame)) await once(res, 'drain').catch(() => undefined);
      const delay = fault?.kind === 'drip' && at >= fault.afterSamples ? (fault.dripMs ?? 250) : this.chunkDelayMs;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    log.finished = true;
    const crc = fault?.kind === 'bad_crc' ? (sum.crc ^ 1) >>> 0 : sum.crc;
    const end = endFrame({ samples: sum.samples, crc32: crc, sample_rate: SAMPLE_RATE });
    if (this.endDelayMs === 0) return void res.end(end);
    res.write(end);
    await new Promise((r) => setTimeout(r, this.endDelayMs));
    res.end();
  }
}
