/**
 * Names that are properties of every JavaScript object, and limits that disagree between the
 * gateway and its nodes, are refused at startup; at run time an OpenAI `model` such as
 * `constructor` is an unknown model (400), and a truncation that keeps only whitespace is the
 * client's 413 instead of an empty request to a node. Config checks run the real parser; the
 * request checks run a real gateway in front of a real simulator node.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../gateway/src/config/load.ts';
import { textLimitConflicts } from '../../gateway/src/config/text-limits.ts';
import { baseConfig, deepMerge, SIM_MODELS_DIR, simOverrides } from '../harness/config.ts';
import { startCluster, type Cluster } from '../harness/cluster.ts';
import { call, getText, metricValue } from '../harness/client.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

function withNode(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return deepMerge(baseConfig(), {
    regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:9', models: ['flite-hd', 'flite-fast'] }] }],
    ...overrides,
  });
}

function issues(raw: unknown): string[] {
  try {
    parseConfig(raw);
    return [];
  } catch (err) {
    return (err as { issues: string[] }).issues;
  }
}

describe('config: prototype names', () => {
  it.each(PROTOTYPE_NAMES)('refuses a key whose plan is %j', (plan) => {
    const cfg = withNode();
    (cfg['keys'] as unknown[]).push({ key: 'k-proto', tenant: 't', plan });
    expect(issues(cfg).some((i) => i.includes(`unknown plan ${plan}`))).toBe(true);
  });

  it.each(['constructor', 'toString', 'valueOf'])('refuses a plan or an OpenAI model named %j', (name) => {
    const plans = baseConfig()['plans'] as Record<string, unknown>;
    expect(issues(withNode({ plans: { ...plans, [name]: plans['free'] } })).join(' ')).toContain('every JavaScript object has');
    expect(issues(withNode({ openai_models: { [name]: 'primary' } })).join(' ')).toContain('every JavaScript object has');
  });

  it('refuses `__proto__` written in YAML as a plan or an OpenAI model name', () => {
    const yaml = readFileSync(path.join(REPO, 'config/local.yaml'), 'utf8');
    expect(() => parseConfigText(`${yaml}\nopenai_models: { __proto__: primary }\n`)).toThrow();
    expect(() => parseConfigText(yaml.replace('  enterprise:\n', '  __proto__:\n'))).toThrow();
  });
});

describe('config: every node accepts what every plan routed to it allows', () => {
  it('refuses a plan allowing more characters than its nodes accept, naming both', () => {
    const plans = baseConfig()['plans'] as Record<string, Record<string, unknown>>;
    const found = issues(withNode({ plans: { ...plans, enterprise: { ...plans['enterprise'], max_text_chars: 5000 } } }));
    expect(found.join('\n')).toMatch(/plan enterprise sends up to 5000 characters per node request, but node n1 .* accepts 4000/);
  });

  it('accepts it once the node says it takes that much; the committed local config passes', () => {
    const plans = baseConfig()['plans'] as Record<string, Record<string, unknown>>;
    const cfg = withNode({
      plans: { ...plans, enterprise: { ...plans['enterprise'], max_text_chars: 5000 } },
      regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:9', models: ['flite-hd', 'flite-fast'], max_text_chars: 5000 }] }],
    });
    expect(issues(cfg)).toEqual([]);
    expect(() => parseConfigText(readFileSync(path.join(REPO, 'config/local.yaml'), 'utf8'))).not.toThrow();
  });

  it('checks what one node request carries: a per-segment maximum instead of the plan limit', () => {
    const view = {
      plans: { enterprise: { primary: 'a', fallback: 'b', max_text_chars: 5000 } },
      regions: [
        {
          nodes: [
            { id: 'n1', models: ['a'], max_text_chars: 1000 },
            { id: 'n2', models: ['c'], max_text_chars: 10 },
          ],
        },
      ],
      canaries: [],
    };
    expect(textLimitConflicts(view)).toHaveLength(1);
    expect(textLimitConflicts(view, () => 800)).toEqual([]);
    // A canary shadowing the plan reaches its node too.
    expect(textLimitConflicts({ ...view, canaries: [{ canary: 'c', plans: [] }] }, () => 800)).toEqual([expect.stringContaining('node n2')]);
  });
});

describe('requests: prototype names and whitespace truncation (real gateway and node)', () => {
  let cluster: Cluster;
  let nodeRequests = 0;

  beforeAll(async () => {
    cluster = await startCluster({ regions: [{ name: 'north', nodes: 1 }], node: { modelsDir: SIM_MODELS_DIR }, gateway: simOverrides() });
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
  });

  const gw = () => cluster.gateway.url;
  const nodeCount = async () => metricValue(await getText(`${cluster.nodes[0]!.url}/metrics`), 'voxgate_node_requests_total', {});

  it.each(PROTOTYPE_NAMES)('OpenAI model %j is 400 unknown_model', async (model) => {
    const r = await call(gw(), 'demo-pro', { model, input: 'hello there', voice: 'alloy' }, { path: '/v1/audio/speech' });
    expect(r.status).toBe(400);
    expect((r.json as { error: { code: string } }).error.code).toBe('unknown_model');
  });

  it('a real OpenAI model name is still served', async () => {
    const r = await call(gw(), 'demo-pro', { model: 'tts-1', input: 'hello there', voice: 'alloy', response_format: 'wav' }, { path: '/v1/audio/speech' });
    expect(r.status).toBe(200);
  });

  it('a truncation that keeps only whitespace is 413 text_too_long and never reaches a node', async () => {
    nodeRequests = await nodeCount();
    // pro allows 1000 characters and truncates: the first 1000 are spaces.
    const r = await call(gw(), 'demo-pro', { text: `${' '.repeat(1000)}${'word '.repeat(50)}` });
    expect(r.status).toBe(413);
    expect((r.json as { error: { code: string } }).error.code).toBe('text_too_long');
    expect(await nodeCount()).toBe(nodeRequests);
  });
});
