/**
 * A small fault-injection proxy in front of one node (Envoy's fault filter, in the harness, not
 * in production code). It forwards to the node and, when told, delays, fails with a status,
 * hangs, or resets the connection — for synthesis calls only (`scope: 'synthesize'`, the
 * default, so health checks still pass: a node that is up but failing) or for every path
 * (`scope: 'all'`). It counts requests and their peak concurrency, so tests can measure
 * amplification.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'fail'; status: number; code?: string; retryAfterS?: number; delayMs?: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  /** Forwards the answer's headers and its first `bytes` bytes, then drops the connection. */
  | { kind: 'truncate'; bytes: number };

export interface FaultStats {
  /** Synthesis requests seen. */
  synth: number;
  /** Other requests (health checks). */
  other: number;
  inflight: number;
  peakInflight: number;
  /** Requests whose client (the gateway) hung up before the answer was complete. */
  cancelled: number;
}

export class FaultProxy {
  private fault: Fault = { kind: 'pass' };
  private scope: 'synthesize' | 'all' = 'synthesize';
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly hung = new Set<http.ServerResponse>();
  readonly stats: FaultStats = { synth: 0, other: 0, inflight: 0, peakInflight: 0, cancelled: 0 };
  private constructor(
    private readonly server: http.Server,
    public target: string,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, target);
    server.on('request', (req, res) => proxy.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  set(fault: Fault, scope: 'synthesize' | 'all' = 'synthesize'): void {
    this.fault = fault;
    this.scope = scope;
    if (fault.kind !== 'hang') this.releaseHung();
  }

  resetStats(): void {
    Object.assign(this.stats, { synth: 0, other: 0, cancelled: 0, peakInflight: this.stats.inflight });
  }

  private releaseHung(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const isSynth = req.method === 'POST' && (req.url ?? '').startsWith('/v1/synthesize');
    if (isSynth) this.stats.synth += 1;
    else this.stats.other += 1;
    this.stats.inflight += 1;
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.stats.inflight);
    res.once('close', () => {
      this.stats.inflight -= 1;
      if (!res.writableFinished && this.fault.kind !== 'reset' && this.fault.kind !== 'truncate') this.stats.cancelled += 1;
    });
    const fault = isSynth || this.scope === 'all' ? this.fault : ({ kind: 'pass' } as Fault);
    switch (fault.kind) {
      case 'pass':
        return this.forward(req, res);
      case 'truncate':
        return this.forward(req, res, fault.bytes);
      case 'delay':
        setTimeout(() => this.forward(req, res), fault.ms);
        return;
      case 'hang':
        req.resume();
        this.hung.add(res);
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'fail': {
        req.resume();
        const send = () => {
          const body = JSON.stringify({ error: { code: fault.code ?? 'engine_failure', message: 'injected fault', trace_id: '-', retryable: true } });
          res.writeHead(fault.status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {}),
          });
          res.end(body);
        };
        if (fault.delayMs) setTimeout(send, fault.delayMs);
        else send();
        return;
      }
    }
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, truncateAt?: number): void {
    const target = new URL(this.target);
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.on('error', () => res.destroy());
        if (truncateAt === undefined) return void upRes.pipe(res);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (sent >= truncateAt) return;
          const part = chunk.subarray(0, truncateAt - sent);
          sent += part.length;
          res.write(part);
          if (sent >= truncateAt) {
            upRes.destroy();
            // Let the bytes reach the gateway, then die mid-body.
            setTimeout(() => res.socket?.destroy(), 20);
          }
        });
      },
    );
    // A dead node behind the proxy looks like a dead node: the connection is reset.
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  async close(): Promise<void> {
    this.releaseHung();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }
}
