/**
 * Hostile HTTP clients on raw sockets: uploads cut off mid-body (FIN or RST), malformed chunked
 * framing, slowloris headers and bodies. `fetch` cannot misbehave like this, and these are the
 * faults a real server meets, so tests speak HTTP/1.1 by hand with `net.connect`.
 */
import { connect, type Socket } from 'node:net';

export type HangUp = 'fin' | 'rst';
export type Framing = 'content-length' | 'chunked';

export interface Target {
  url: string;
  path: string;
  headers?: Record<string, string>;
}

function open(target: Target): Promise<Socket> {
  const u = new URL(target.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function head(target: Target, extra: Record<string, string>): string {
  const u = new URL(target.url);
  const headers = { host: u.host, 'content-type': 'application/json', ...target.headers, ...extra };
  return `POST ${target.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/** Resolves with everything the server sent once the socket closes (or after `waitMs`). */
function collect(socket: Socket, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts an upload of `declaredBytes`, sends about a third of it, then hangs up with a FIN
 * (`end()`) or an RST (`resetAndDestroy()`).
 */
export async function abandonUpload(target: Target, framing: Framing, hangUp: HangUp, declaredBytes = 3000): Promise<void> {
  const socket = await open(target);
  socket.on('error', () => undefined);
  const part = `{"text":"${'a'.repeat(Math.floor(declaredBytes / 3))}`;
  if (framing === 'content-length') socket.write(head(target, { 'content-length': String(declaredBytes) }) + part);
  else socket.write(head(target, { 'transfer-encoding': 'chunked' }) + `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
  // Let the server start reading the body before the client leaves.
  await settle(150);
  if (hangUp === 'fin') socket.end();
  else socket.resetAndDestroy();
  await settle(50);
  socket.destroy();
}

/** A chunked body whose chunk-size line is not hex: the server's parser fails mid-body. */
export async function malformedChunk(target: Target): Promise<string> {
  const socket = await open(target);
  const answer = collect(socket, 3000);
  socket.write(head(target, { 'transfer-encoding': 'chunked' }) + '5\r\n{"tex\r\nzz\r\nnot-a-chunk\r\n');
  return answer;
}

/** A chunked body of `totalBytes` sent in one go; resolves with the raw answer. */
export async function chunkedUpload(target: Target, totalBytes: number): Promise<string> {
  const socket = await open(target);
  const answer = collect(socket, 5000);
  const body = `{"text":"${'a'.repeat(Math.max(0, totalBytes - 11))}"}`;
  socket.on('error', () => undefined);
  const chunk = 16 * 1024;
  let out = head(target, { 'transfer-encoding': 'chunked' });
  for (let i = 0; i < body.length; i += chunk) {
    const piece = body.slice(i, i + chunk);
    out += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
  }
  socket.write(`${out}0\r\n\r\n`);
  return answer;
}

/**
 * Opens a connection and trickles either the headers or the body one byte at a time every
 * `everyMs`, forever; resolves with how long the server kept the connection open.
 */
export async function slowloris(
  target: Target,
  phase: 'headers' | 'body',
  everyMs: number,
  giveUpMs: number,
): Promise<{ openMs: number; closedByServer: boolean; answer: string }> {
  const socket = await open(target);
  const started = performance.now();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const full = head(target, { 'content-length': '10000' });
  let sent = 0;
  if (phase === 'body') {
    socket.write(full);
    sent = full.length;
  }
  return new Promise((resolve) => {
    const trickle = setInterval(() => {
      if (socket.destroyed) return;
      socket.write(phase === 'headers' ? full[sent++ % full.length]! : 'a');
    }, everyMs);
    const finish = (closedByServer: boolean) => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ openMs: performance.now() - started, closedByServer, answer: text });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.once('close', () => finish(true));
  });
}

/** Opens `n` idle connections; resolves with the sockets (the caller destroys them). */
export async function openIdle(target: Target, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = await open(target);
    s.on('error', () => undefined);
    sockets.push(s);
  }
  return sockets;
}
