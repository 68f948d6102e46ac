/**
 * Security checks: admin endpoints refuse requests without the admin token; client credentials
 * are never forwarded to nodes; errors never leak stack traces or source paths; names every
 * JavaScript object has are unknown names (requests and config); a truncation that keeps only
 * whitespace is the client's 413; a model pack cannot reach outside the models directory.
 * @module
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, cp } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../gateway/src/config/load.ts';
import { publishPack } from '../../../node-runtime/src/packs/publish.ts';
import { baseConfig, deepMerge } from '../../harness/config.ts';
import { call, metricValue, type CallResult } from '../../harness/index.ts';
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

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

/** Config mistakes that must stop a gateway at startup: how many of them `parseConfig` refuses. */
function configRefusals(): { refused: number; of: number } {
  const base = deepMerge(baseConfig(), { regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:9', models: ['flite-hd', 'flite-fast'] }] }] });
  const plans = base['plans'] as Record<string, Record<string, unknown>>;
  const bad = [
    ...PROTOTYPE_NAMES.map((plan) => ({ ...base, keys: [{ key: 'k', tenant: 't', plan }] })),
    { ...base, plans: { ...plans, enterprise: { ...plans['enterprise'], max_text_chars: 5000 } } },
  ];
  let refused = 0;
  for (const cfg of bad) {
    try {
      parseConfig(cfg);
    } catch {
      refused++;
    }
  }
  return { refused, of: bad.length };
}

/** Pack publishing attacks, on real files: (refused, written outside the models directory). */
async function packEscapes(): Promise<{ refused: number; of: number; outside: string[] }> {
  const root = await mkdtemp(path.join(tmpdir(), 'chaos-packs-'));
  try {
    const source = path.join(root, 'src', 'flite');
    await cp(path.resolve(import.meta.dirname, '../../../models/flite'), source, { recursive: true });
    const manifestFile = path.join(source, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    const modelsDir = path.join(root, 'models');
    await mkdir(modelsDir);
    let refused = 0;
    const attempt = async () =>
      publishPack(source, modelsDir).then(
        () => undefined,
        () => void refused++,
      );
    await writeFile(manifestFile, JSON.stringify({ ...manifest, version: '1/../../../escaped' }));
    await attempt();
    await writeFile(manifestFile, JSON.stringify({ ...manifest, files: [{ path: '../x', sha256: '0'.repeat(64), bytes: 1 }] }));
    await attempt();
    await writeFile(manifestFile, JSON.stringify(manifest));
    await writeFile(path.join(root, 'outside.json'), '{}');
    await symlink(path.join(root, 'outside.json'), path.join(source, 'extra.json'));
    await attempt();
    const outside = (await readdir(root)).filter((e) => !['src', 'models', 'outside.json'].includes(e));
    outside.push(...(await readdir(path.join(modelsDir, '.packs')).catch(() => [])));
    return { refused, of: 3, outside };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

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
    records.push({
      t: r.start - epochMs,
      ms: Math.round(r.ms),
      status: r.status,
      outcome: r.status === 0 ? 'net_error' : classifyStatus(r.status),
      bytes: r.body.length,
      detail: what,
    });
    if (r.status !== 200) bodies.push({ what, text: r.body.toString('utf8') + JSON.stringify(r.headers) });
    return r;
  };
  try {
    const gw = cluster.gateway.url;
    const node = cluster.nodes[0]!.directUrl;
    // 1. Admin endpoints.
    const reload = (url: string, headers: Record<string, string>, path = '/admin/models/reload') =>
      call(url, undefined, undefined, { method: 'POST', path, headers, raw: '' });
    const nodeAdmin = {
      none: note('node admin, no token', await reload(node, {})),
      wrong: note('node admin, wrong token', await reload(node, { authorization: 'Bearer not-the-admin-token-at-all' })),
      query: note('node admin, token in query', await reload(node, {}, `/admin/models/reload?token=${TEST_ADMIN_TOKEN}`)),
      basic: note('node admin, token as Basic', await reload(node, { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` })),
      client: note('node admin, client key', await reload(node, { authorization: `Bearer ${SECRET_KEY}` })),
      right: note('node admin, right token', await reload(node, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })),
    };
    const gatewayAdmin: CallResult[] = [];
    for (const [method, path] of [
      ['POST', '/admin/models/reload'],
      ['GET', '/admin'],
      ['POST', '/admin/config/reload'],
      ['GET', '/debug/pprof'],
      ['POST', '/v1/../admin/models/reload'],
    ] as const)
      gatewayAdmin.push(
        note(`gateway ${method} ${path}`, await call(gw, SECRET_KEY, undefined, { method, path, raw: method === 'POST' ? '' : undefined } as never)),
      );
    // 2. Credentials through the gateway, both APIs.
    const creds = {
      cookie: 'session=chaos-secret-cookie',
      'x-api-key': 'chaos-secret-api-key',
      'proxy-authorization': 'Basic Y2hhb3M6c2VjcmV0',
      'x-customer-secret': 'chaos-secret-header',
    };
    const native = note('native synthesis with credentials', await call(gw, SECRET_KEY, { text: 'Credentials stay here' }, { headers: creds }));
    const openai = note(
      'OpenAI synthesis with credentials',
      await call(gw, SECRET_KEY, { model: 'tts-1', input: 'Credentials stay here', voice: 'alloy' }, { path: '/v1/audio/speech', headers: creds }),
    );
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
    // 4. Names every object has, whitespace truncation, config and pack attacks.
    const protoModels: CallResult[] = [];
    for (const model of PROTOTYPE_NAMES)
      protoModels.push(note(`OpenAI model ${model}`, await call(gw, SECRET_KEY, { model, input: 'hi', voice: 'alloy' }, { path: '/v1/audio/speech' })));
    // pro truncates at 1000 characters: here the first 1000 are spaces.
    const blank = note('truncation leaving only whitespace', await call(gw, SECRET_KEY, { text: `${' '.repeat(1000)}${'word '.repeat(40)}` }));
    // A deadline the client chose: the contract's 504, booked client_gone, the 5xx counter still.
    const fivexx = async () =>
      metricValue((await call(gw, undefined, undefined, { method: 'GET', path: '/metrics' })).body.toString(), 'voxgate_gateway_responses_5xx_total');
    const fivexxBefore = await fivexx();
    const deadline = await call(gw, SECRET_KEY, { text: 'a deadline no node can meet' }, { headers: { 'x-request-timeout-ms': '1' } });
    const fivexxDelta = (await fivexx()) - fivexxBefore;
    const config = configRefusals();
    const packs = await packEscapes();
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
        check(
          'node admin refuses no token, a wrong token, a query token, Basic, a client key',
          [nodeAdmin.none, nodeAdmin.wrong, nodeAdmin.query, nodeAdmin.basic, nodeAdmin.client].every(refused),
          Object.entries(nodeAdmin)
            .map(([k, r]) => `${k} ${r.status}`)
            .join(', '),
        ),
        check('node admin accepts its token', nodeAdmin.right.status === 200, `right token ${nodeAdmin.right.status}`),
        check(
          'the gateway exposes no admin endpoint',
          gatewayAdmin.every((r) => r.status === 404 || r.status === 405),
          gatewayAdmin.map((r) => r.status).join(', '),
        ),
        check('synthesis works with credentials attached', native.status === 200 && openai.status === 200, `native ${native.status}, OpenAI ${openai.status}`),
        check(
          'no credential header reaches a node',
          synthCalls.length >= 2 && forwarded.length === 0 && !secretInHeaders,
          `${synthCalls.length} node calls seen; forwarded: ${forwarded.join(', ') || 'none'}; secret in headers: ${secretInHeaders}`,
        ),
        check('the client key never appears in gateway logs', keyInLogs.length === 0, `${keyInLogs.length} of ${gatewayLines.length} lines`),
        check(
          'OpenAI model constructor/toString/__proto__/hasOwnProperty/valueOf is 400 unknown_model',
          protoModels.every((r) => r.status === 400 && r.body.toString().includes('unknown_model')),
          protoModels.map((r) => r.status).join(', '),
        ),
        check('a truncation that keeps only whitespace is 413, not an empty node request', blank.status === 413, `${blank.status}`),
        check(
          'a client-chosen deadline is 504 deadline_exceeded and leaves the 5xx counter alone',
          deadline.status === 504 && deadline.body.toString().includes('deadline_exceeded') && fivexxDelta === 0,
          `${deadline.status}; voxgate_gateway_responses_5xx_total +${fivexxDelta}`,
        ),
        check(
          "config refuses a prototype plan name and a plan over its nodes' text limit",
          config.refused === config.of,
          `${config.refused} of ${config.of} refused`,
        ),
        check(
          'pack publishing cannot escape the models directory',
          packs.refused === packs.of && packs.outside.length === 0,
          `${packs.refused} of ${packs.of} refused; written outside: ${packs.outside.join(', ') || 'nothing'}`,
        ),
        check(
          'no error body leaks a stack trace or source path',
          leaks.length === 0,
          leaks.length === 0 ? `${bodies.length} error bodies clean` : leaks.map((l) => `${l.what}: ${l.text.slice(0, 120)}`).join('; '),
        ),
      ],
      figures: { error_bodies_checked: bodies.length, node_calls_inspected: synthCalls.length },
    };
  } finally {
    untap();
    await cluster.close();
  }
}
