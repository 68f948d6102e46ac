import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedAgent, type CallbackPolicy } from '../../../gateway/src/jobs/callback-guard.ts';
import { backoffMs, WebhookSender, type DeliveryState } from '../../../gateway/src/jobs/webhook.ts';

const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, fixed').toString('base64')}`;
// The receiver is on loopback, which the guard refuses unless the operator allow-lists it.
const POLICY: CallbackPolicy = { allowSchemes: ['http'], allowHosts: ['127.0.0.1'], allowCidrs: [] };
const RETRY = { maxAttempts: 5, baseMs: 10, maxMs: 100, timeoutMs: 2_000 };

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(statuses: number[]): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const status = statuses[received.length - 1] ?? 200;
      res.writeHead(status, status === 302 ? { location: 'http://10.0.0.1/' } : {}).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe('webhook delivery', () => {
  let server: Server | undefined;
  const agent = guardedAgent(POLICY);
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('signs as Standard Webhooks and retries with the same webhook-id until delivered', async () => {
    const rx = await receiver([500, 503, 500, 200]);
    server = rx.server;
    const sender = new WebhookSender(SECRET, POLICY, agent, RETRY);
    const message = { id: 'job_abc_succeeded', type: 'job.succeeded', payload: { id: 'abc', status: 'succeeded' } };
    let state: DeliveryState = { state: 'pending', attempts: 0 };
    while (state.state === 'pending') state = await sender.attempt(rx.url, message, state, new Date());
    expect(state).toMatchObject({ state: 'delivered', attempts: 4, last_status: 200 });
    expect(rx.received).toHaveLength(4);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(['job_abc_succeeded']));
    const verifier = new Webhook(SECRET);
    for (const r of rx.received) {
      const payload = verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; data: { id: string } };
      expect(payload).toMatchObject({ type: 'job.succeeded', data: { id: 'abc' } });
    }
  });

  it('dead-letters after the last attempt, and never follows a redirect', async () => {
    const rx = await receiver([302, 302, 302]);
    server = rx.server;
    const sender = new WebhookSender(SECRET, POLICY, agent, { ...RETRY, maxAttempts: 3 });
    let state: DeliveryState = { state: 'pending', attempts: 0 };
    while (state.state === 'pending') state = await sender.attempt(rx.url, { id: 'm1', type: 'job.failed', payload: {} }, state, new Date());
    expect(state).toMatchObject({ state: 'dead_lettered', attempts: 3, last_error: 'redirect not followed' });
    expect(rx.received).toHaveLength(3);
  });

  it('refuses a callback to a loopback address without connecting', async () => {
    const sender = new WebhookSender(SECRET, { ...POLICY, allowHosts: [] }, agent, RETRY);
    const state = await sender.attempt('http://127.0.0.1:9/hook', { id: 'm2', type: 'job.failed', payload: {} }, { state: 'pending', attempts: 0 }, new Date());
    expect(state.state).toBe('pending');
    expect(state.last_error).toMatch(/loopback/);
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffMs(0, RETRY, () => 1)).toBe(10);
    expect(backoffMs(3, RETRY, () => 1)).toBe(80);
    expect(backoffMs(10, RETRY, () => 1)).toBe(100);
    expect(backoffMs(3, RETRY, () => 0)).toBe(0);
  });
});
