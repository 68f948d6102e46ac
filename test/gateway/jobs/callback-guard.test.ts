import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { CallbackRefused, checkCallbackUrl, guardedLookup, type CallbackPolicy } from '../../../gateway/src/jobs/callback-guard.ts';

const STRICT: CallbackPolicy = { allowSchemes: ['https'], allowHosts: [], allowCidrs: [] };
const HTTP: CallbackPolicy = { allowSchemes: ['https', 'http'], allowHosts: [], allowCidrs: [] };

describe('checkCallbackUrl', () => {
  it.each([
    ['http://example.com/hook', STRICT, /scheme http/],
    ['https://127.0.0.1/hook', STRICT, /loopback/],
    ['https://10.0.0.1/hook', STRICT, /private/],
    ['https://192.168.1.10/hook', STRICT, /private/],
    ['https://169.254.169.254/latest/meta-data/', STRICT, /linkLocal/],
    ['https://[::1]/hook', STRICT, /loopback/],
    ['https://[::ffff:127.0.0.1]/hook', STRICT, /loopback/],
    ['https://0.0.0.0/hook', STRICT, /unspecified/],
    ['https://localhost/hook', STRICT, /loopback/],
    ['https://user:pw@example.com/hook', STRICT, /credentials/],
    ['not a url', STRICT, /not a URL/],
    ['file:///etc/passwd', HTTP, /scheme file/],
  ])('refuses %s', (url, policy, why) => {
    expect(() => checkCallbackUrl(url, policy)).toThrow(why);
  });

  it('accepts public https and what the operator allow-listed', () => {
    expect(checkCallbackUrl('https://hooks.example.com/voxgate?x=1', STRICT).host).toBe('hooks.example.com');
    expect(checkCallbackUrl('https://93.184.216.34/hook', STRICT).hostname).toBe('93.184.216.34');
    expect(checkCallbackUrl('http://127.0.0.1:9000/hook', { ...HTTP, allowHosts: ['127.0.0.1'] }).port).toBe('9000');
    expect(checkCallbackUrl('https://10.20.1.5/hook', { ...STRICT, allowCidrs: ['10.20.0.0/16'] }).hostname).toBe('10.20.1.5');
  });
});

describe('guarded connection', () => {
  let server: Server | undefined;
  let connections = 0;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('never connects when a name resolves to a refused address (DNS rebinding)', async () => {
    server = createServer((_, res) => res.end('reached'));
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // A resolver that answers the check's name with loopback, as a rebinding DNS server would.
    const rebinding = ((_host: string, _opts: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof import('node:dns').lookup;
    const agent = new Agent({ connect: { lookup: guardedLookup(HTTP, rebinding) } });
    try {
      // The URL check passes (a name), the connection's own lookup refuses the address.
      const url = checkCallbackUrl(`http://hooks.example.test:${port}/hook`, HTTP);
      await expect(agent.request({ origin: url.origin, path: url.pathname, method: 'POST', body: '{}' })).rejects.toThrow(/refused addresses/);
      expect(connections).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('connects to an allow-listed host name', async () => {
    server = createServer((_, res) => res.end('reached'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const policy = { ...HTTP, allowHosts: ['localhost'] };
    const agent = new Agent({ connect: { lookup: guardedLookup(policy) } });
    try {
      const res = await agent.request({ origin: `http://localhost:${port}`, path: '/', method: 'GET' });
      expect(await res.body.text()).toBe('reached');
    } finally {
      await agent.close();
    }
  });

  it('is a CallbackRefused with a stable code', () => {
    try {
      checkCallbackUrl('https://127.0.0.1/', STRICT);
    } catch (err) {
      expect(err).toBeInstanceOf(CallbackRefused);
      expect((err as CallbackRefused).code).toBe('VOX_ERR_CALLBACK_REFUSED');
    }
    expect.assertions(2);
  });
});
