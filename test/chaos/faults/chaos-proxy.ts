/**
 * A fault proxy in front of one node runtime — Envoy's fault filter, but outside the production
 * code: the gateway talks to this proxy and cannot tell it from the node. Beyond the harness's
 * `FaultProxy` (delay, fail, hang, reset before any byte) it can break a response *after* it
 * started: reset mid-body, end the connection early (truncated body), send a complete HTTP
 * response holding a truncated WAV, or drip the body a few bytes at a time.
 *
 * Faults apply to synthesis calls only by default, so health checks still pass: a node that is
 * up but serving garbage is the case a gateway must catch by itself.
 * @module
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ChaosFault =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'status'; status: number; retryAfterS?: number }
  /** Headers and `fraction` of the body, then a TCP reset. */
  | { kind: 'reset_mid_body'; fraction: number }
  /** Headers (full content-length) and `fraction` of the body, then a clean FIN. */
  | { kind: 'truncate_body'; fraction: number }
  /** A well-formed HTTP response whose WAV is cut: content-length matches the short body. */
  | { kind: 'truncate_wav'; fraction: number }
  /** The body in `chunkBytes` pieces every `intervalMs`. */
  | { kind: 'slow_drip'; chunkBytes: number; intervalMs: number };

export interface ChaosProxyStats {
  synth: number;
  /** Synthesis calls that met an active (non-pass) fault: the requests that "waited on the bad node". */
  faulted: number;
  other: number;
  inflight: number;
  peakInflight: number;
}

export class ChaosProxy {
  #fault: ChaosFault = { kind: 'pass' };
  #rate = 1;
  #scope: 'synthesize' | 'all' = 'synthesize';
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  readonly #held = new Set<Socket>();
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #down = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly stats: ChaosProxyStats = { synth: 0, faulted: 0, other: 0, inflight: 0, peakInflight: 0 };
  /** Sees every request's method, path and headers before it is forwarded (security checks). */
  observe: ((req: http.IncomingMessage) => void) | undefined;

  private constructor(
    readonly server: http.Server,
    /** Where requests go; a restarted node on a new port is picked up by assigning this. */
    public target: string,
  ) {}

  /**
   * @example
   * const proxy = await ChaosProxy.start(node.directUrl);
   * proxy.set({ kind: 'reset_mid_body', fraction: 0.5 });  // every synthesis answer breaks halfway
   */
  static async start(target: string, port = 0): Promise<ChaosProxy> {
    const server = http.createServer({ keepAliveTimeout: 5_000 });
    const proxy = new ChaosProxy(server, target);
    server.on('request', (req, res) => proxy.#handle(req, res));
    server.on('connection', (socket: Socket) => {
      proxy.#sockets.add(socket);
      socket.once('close', () => proxy.#sockets.delete(socket));
    });
    await proxy.#listen(port);
    proxy.#port = (server.address() as AddressInfo).port;
    return proxy;
  }

  #listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * The node's host is gone: new connections are refused and open ones reset, which is what a
   * client sees when a process is SIGKILLed (the kernel answers RST for its dead sockets).
   */
  async down(): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#held.clear();
    await closed;
  }

  /** Listens again on the same port (a restarted node keeps its address). */
  async up(): Promise<void> {
    if (!this.#down) return;
    await this.#listen(this.#port);
    this.#down = false;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get fault(): ChaosFault {
    return this.#fault;
  }

  /** `rate` is the probability a synthesis call meets the fault (1 = every call). */
  set(fault: ChaosFault, options: { rate?: number; scope?: 'synthesize' | 'all' } = {}): void {
    this.#fault = fault;
    this.#rate = options.rate ?? 1;
    this.#scope = options.scope ?? 'synthesize';
    if (fault.kind !== 'hang') this.#releaseHeld();
  }

  #releaseHeld(): void {
    for (const socket of this.#held) socket.destroy();
    this.#held.clear();
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.observe?.(req);
    const isSynth = req.method === 'POST' && (req.url ?? '').startsWith('/v1/synthesize');
    if (isSynth) this.stats.synth++;
    else this.stats.other++;
    this.stats.inflight++;
    this.stats.peakInflight = Math.max(this.stats.peakInflight, this.stats.inflight);
    res.once('close', () => this.stats.inflight--);
    const applies = (isSynth || this.#scope === 'all') && this.#fault.kind !== 'pass' && Math.random() < this.#rate;
    const fault: ChaosFault = applies ? this.#fault : { kind: 'pass' };
    if (applies && isSynth) this.stats.faulted++;
    switch (fault.kind) {
      case 'pass':
        return this.#forward(req, res, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
      case 'delay':
        return this.#later(fault.ms, () => this.#forward(req, res, (up) => (res.writeHead(up.statusCode ?? 502, up.headers), up.pipe(res))));
      case 'hang':
        req.resume();
        this.#held.add(req.socket);
        req.socket.once('close', () => this.#held.delete(req.socket));
        return;
      case 'status': {
        req.resume();
        const body = JSON.stringify({ error: { code: 'injected_fault', message: 'injected by the chaos proxy', trace_id: '-', retryable: true } });
        res.writeHead(fault.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {}),
        });
        res.end(body);
        return;
      }
      case 'reset_mid_body':
      case 'truncate_body':
        return this.#forwardBuffered(req, res, (status, headers, body) => {
          res.writeHead(status, headers);
          res.write(body.subarray(0, Math.floor(body.length * fault.fraction)));
          // Let the partial bytes leave before breaking the connection.
          this.#later(5, () => (fault.kind === 'reset_mid_body' ? res.socket?.resetAndDestroy() : res.socket?.end()));
        });
      case 'truncate_wav':
        return this.#forwardBuffered(req, res, (status, headers, body) => {
          const cut = status === 200 ? body.subarray(0, Math.floor(body.length * fault.fraction)) : body;
          res.writeHead(status, { ...headers, 'content-length': String(cut.length) });
          res.end(cut);
        });
      case 'slow_drip':
        return this.#forwardBuffered(req, res, (status, headers, body) => {
          res.writeHead(status, headers);
          let offset = 0;
          const drip = (): void => {
            if (res.destroyed) return;
            res.write(body.subarray(offset, offset + fault.chunkBytes));
            offset += fault.chunkBytes;
            if (offset >= body.length) res.end();
            else this.#later(fault.intervalMs, drip);
          };
          drip();
        });
    }
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse, onResponse: (up: http.IncomingMessage) => void): void {
    const target = new URL(this.target);
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: this.#agent },
      (upRes) => {
        upRes.on('error', () => res.destroy());
        onResponse(upRes);
      },
    );
    // A dead node behind the proxy must look dead: the client's connection is reset too.
    up.on('error', () => res.socket?.resetAndDestroy() ?? res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  #forwardBuffered(req: http.IncomingMessage, res: http.ServerResponse, send: (status: number, headers: http.IncomingHttpHeaders, body: Buffer) => void): void {
    this.#forward(req, res, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        if (!res.destroyed) send(up.statusCode ?? 502, up.headers, Buffer.concat(chunks));
      });
    });
  }

  /** Idempotent: drops held sockets and timers, closes every connection. */
  async close(): Promise<void> {
    this.#releaseHeld();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.server.closeAllConnections();
    if (!this.#down) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.#down = true;
    this.#agent.destroy();
  }
}
