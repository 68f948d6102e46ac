/**
 * The gateway's V8 flag (lifecycle/gc-tuning.ts) is a command-line flag: set at run time V8
 * honours it only in part. So the process a launcher starts must carry it, here the test
 * harness's (the cluster supervisor and the bench pass the same constant).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../../../gateway/src/lifecycle/gc-tuning.ts';
import { baseConfig, deepMerge } from '../../harness/config.ts';
import { startGateway, type GatewayHandle } from '../../harness/cluster.ts';
import { startStubNode, type StubNode } from '../../harness/stub-node.ts';

let node: StubNode;
let gw: GatewayHandle;

beforeAll(async () => {
  node = await startStubNode((_req, res) => void res.end(), { slots: 1, queueLimit: 1, latencyMs: 1 });
  gw = await startGateway(
    deepMerge(baseConfig(), { region: 'north', regions: [{ name: 'north', priority: 0, nodes: [{ id: 'n1', url: node.url, models: ['flite-hd'] }] }] }),
  );
});

afterAll(async () => {
  await gw?.proc.stop(2_000);
  await node?.close();
});

describe('gateway node flags', () => {
  it('starts the gateway process with every flag in GATEWAY_NODE_FLAGS, before its script', () => {
    const argv = readFileSync(`/proc/${gw.proc.pid}/cmdline`, 'utf8').split('\0');
    const script = argv.findIndex((a) => a.endsWith('gateway/src/main.ts'));
    expect(script).toBeGreaterThan(0);
    expect(GATEWAY_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of GATEWAY_NODE_FLAGS) {
      const at = argv.indexOf(flag);
      expect(at, flag).toBeGreaterThan(0);
      expect(at, flag).toBeLessThan(script);
    }
  });
});
