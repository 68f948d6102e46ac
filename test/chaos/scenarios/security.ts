/**
 * Security checks: admin endpoints refuse requests without the admin token; client credentials
 * are never forwarded to nodes; errors never leak stack traces or source paths.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import { call, type CallResult } from '../../harness/index.ts';
import { startChaosCluster } from '../cluster/chaos-cluster.ts';
import { tapLogs } from '../cluster/log-tap.ts';
import { classifyStatus } from '../load/classify.ts';
import type { RequestRecord } from '../load/load-spec.ts';
import { QUEUE, SLOTS } from './common.ts';
import { check, type ScenarioResult } from './scenario.ts';
import { TEST_ADMIN_TOKEN } from './s7-hot-swap.ts';

/** A key that appears nowhere else, so finding it anywhere downstream is a leak. */
const SECRET_KEY = 'sk-chaos-secret-key-0123456789';
const LEAK = /\n\s+at\s|\bat\s+\S+\s+\(\S+:\d+:\d+\)|\.ts:\d+|node_modules|\/work\/|file:\/\//;
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-api-key', 'proxy-authorization', 'x-customer-secret'];

export async function security(): Promise<ScenarioResult> {
  const cluster = await startChaosCluster({
    regions: [{ name: 'north', nodes: [{ env: { VOXGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN } }, { env: { VOXGATE_ADMIN_TOKEN: TEST_ADMIN_TOKEN } }] }],
    node: { slots: SLOTS, queue: QUEUE },
    gateway: {
      keys: [
        { key: 'demo-enterprise', tenant: 'demo-enterprise', plan: 'enterprise' },
        { key: SECRET_KEY, tenant: 'chaos-tenant', plan: 'pro' },
      ],
    },
  });
  const seen: IncomingHttpHeaders[] = [];
  for (const n of cluster.nodes) n.proxy.observe = (req) => void seen.push(req.headers);
  const gatewayLines: string[] = [];
  const untap = tapLogs(cluster.gateway.proc, (l) => void gatewayLines.push(JSON.stringify(l)));
  const epochMs = Date.now();
  const records: RequestRecord[] = [];
  const bodies: { what: string; text: string }[] = [];
  const note = (what: string, r: CallResult): CallResult => {
    records.push({ t: r.start - epochMs, ms: Math.round(r.ms), status: r.status, outcome: r.status === 0 ? 'net_error' : classifyStatus(r.status), bytes: r.body.length, detail: what });
    if (r.status !== 200) bodies.push({ what, text: r.body.toString('utf8') + JSON.stringify(r.headers) });
    return r;
  };
  try {
    const gw = cluster.gateway.url;
    const node = cluster.nodes[0]!.directUrl;
    // 1. Admin endpoints.
    const reload = (url: string, headers: Record<string, string>, path = '/admin/models/reload') => call(url, undefined, undefined, { method: 'POST', path, headers, raw: '' });
    const nodeAdmin = {
      none: note('node admin, no token', await reload(node, {})),
      wrong: note('node admin, wrong token', await reload(node, { authorization: 'Bearer not-the-admin-token-at-all' })),
      query: note('node admin, token in query', await reload(node, {}, `/admin/models/reload?token=${TEST_ADMIN_TOKEN}`)),
      basic: note('node admin, token as Basic', await reload(node, { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` })),
      client: note('node admin, client key', await reload(node, { authorization: `Bearer ${SECRET_KEY}` })),
      right: note('node admin, right token', await reload(node, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })),
    };
    const gatewayAdmin: CallResult[] = [];
    for (const [method, path] of [['POST', '/admin/models/reload'], ['GET', '/admin'], ['POST', '/admin/config/reload'], ['GET', '/debug/pprof'], ['POST', '/v1/../admin/models/reload']] as const)
      gatewayAdmin.push(note(`gateway ${method} ${path}`, await call(gw, SECRET_KEY, undefined, { method, path, raw: method === 'POST' ? '' : undefined } as never)));
    // 2. Credentials through the gateway, both APIs.
    const creds = { cookie: 'session=chaos-secret-cookie', 'x-api-key': 'chaos-secret-api-key', 'proxy-authorization': 'Basic Y2hhb3M6c2VjcmV0', 'x-customer-secret': 'chaos-secret-header' };
    const native = note('native synthesis with credentials', await call(gw, SECRET_KEY, { text: 'Credentials stay here' }, { headers: creds }));
    const openai = note('OpenAI synthesis with credentials', await call(gw, SECRET_KEY, { model: 'tts-1', input: 'Credentials stay here', voice: 'alloy' }, { path: '/v1/audio/speech', headers: creds }));
    // 3. Error bodies from every error path we can reach, gateway and node.
    note('gateway bad JSON', await call(gw, SECRET_KEY, undefined, { raw: '{"text":' }));
    note('gateway no key', await call(gw, undefined, { text: 'x' }));
    note('gateway bad key', await call(gw, 'sk-wrong', { text: 'x' }));
    note('gateway 404', await call(gw, SECRET_KEY, undefined, { method: 'GET', path: '/nope' }));
    note('gateway 405', await call(gw, SECRET_KEY, undefined, { method: 'GET', path: '/v1/synthesize' }));
    note('gateway 413', await call(gw, SECRET_KEY, { text: 'x'.repeat(200_000) }));
    note('gateway 415', await call(gw, SECRET_KEY, undefined, { raw: 'text=x', headers: { 'content-type': 'text/plain' } }));
    note('gateway OpenAI bad body', await call(gw, SECRET_KEY, { model: 'tts-1', input: 42 }, { path: '/v1/audio/speech' }));
    note('node bad JSON', await call(node, undefined, undefined, { raw: '{"text":' }));
    note('node unknown model', await call(node, undefined, { text: 'x', model: 'nope' }));
    note('node 404', await call(node, undefined, undefined, { method: 'GET', path: '/nope' }));
    await new Promise((r) => setTimeout(r, 300));

    const synthCalls = seen.filter((h) => h['x-request-deadline-ms'] !== undefined);
    const forwarded = synthCalls.flatMap((h) => CREDENTIAL_HEADERS.filter((k) => h[k] !== undefined));
    const secretInHeaders = synthCalls.some((h) => JSON.stringify(h).includes('chaos-secret') || JSON.stringify(h).includes(SECRET_KEY));
    const keyInLogs = gatewayLines.filter((l) => l.includes(SECRET_KEY));
    const leaks = bodies.filter((b) => LEAK.test(b.text));
    const refused = (r: CallResult) => r.status === 401 || r.status === 403;
    return {
      id: 'S',
      title: 'Security checks',
      claim: 'admin endpoints refuse requests without the admin token; client credentials never forwarded to nodes; errors never leak stack traces',
      epochMs,
      records,
      faults: [],
      samples: [],
      checks: [
        check('node admin refuses no token, a wrong token, a query token, Basic, a client key', [nodeAdmin.none, nodeAdmin.wrong, nodeAdmin.query, nodeAdmin.basic, nodeAdmin.client].every(refused), Object.entries(nodeAdmin).map(([k, r]) => `${k} ${r.status}`).join(', ')),
        check('node admin accepts its token', nodeAdmin.right.status === 200, `right token ${nodeAdmin.right.status}`),
        check('the gateway exposes no admin endpoint', gatewayAdmin.every((r) => r.status === 404 || r.status === 405), gatewayAdmin.map((r) => r.status).join(', ')),
        check('synthesis works with credentials attached', native.status === 200 && openai.status === 200, `native ${native.status}, OpenAI ${openai.status}`),
        check('no credential header reaches a node', synthCalls.length >= 2 && forwarded.length === 0 && !secretInHeaders, `${synthCalls.length} node calls seen; forwarded: ${forwarded.join(', ') || 'none'}; secret in headers: ${secretInHeaders}`),
        check('the client key never appears in gateway logs', keyInLogs.length === 0, `${keyInLogs.length} of ${gatewayLines.length} lines`),
        check('no error body leaks a stack trace or source path', leaks.length === 0, leaks.length === 0 ? `${bodies.length} error bodies clean` : leaks.map((l) => `${l.what}: ${l.text.slice(0, 120)}`).join('; ')),
      ],
      figures: { error_bodies_checked: bodies.length, node_calls_inspected: synthCalls.length },
    };
  } finally {
    untap();
    await cluster.close();
  }
}
