import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPack, stampPack } from '../../node-runtime/src/packs/publish.ts';
import { copyModels, startRuntime, synthesize, waitForLog, type RuntimeProcess } from './support/runtime-process.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
let node: RuntimeProcess;
let modelsDir: string;
let stagingDir: string;

beforeAll(async () => {
  modelsDir = await copyModels(['flite']);
  stagingDir = await copyModels(['flite']);
  node = await startRuntime(['--node-id', 'swap-1', '--models-dir', modelsDir, '--slots', '2', '--queue', '16'], { VOXGATE_ADMIN_TOKEN: ADMIN_TOKEN });
});
afterAll(async () => {
  await node.stop();
  await rm(modelsDir, { recursive: true, force: true });
  await rm(stagingDir, { recursive: true, force: true });
});

async function reload(token = ADMIN_TOKEN) {
  const res = await fetch(`${node.url}/admin/models/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { loaded?: unknown[]; refused?: { code: string }[]; error?: { code: string } } };
}

async function servedVersion(): Promise<string | null> {
  const res = await synthesize(node.url, { text: 'Which version?' });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return res.headers.get('x-model-version');
}

describe('model pack hot swap', () => {
  it('refuses reload without the admin token', async () => {
    expect((await reload('wrong-token-wrong-token')).status).toBe(401);
    expect((await fetch(`${node.url}/admin/models/reload`, { method: 'POST' })).status).toBe(401);
  });

  it('swaps to a newly published version under continuous load with zero failed requests', async () => {
    const source = path.join(stagingDir, 'flite');
    await stampPack(source, { version: '1.1.0' });
    const statuses: number[] = [];
    const versions = new Set<string>();
    let stop = false;
    const workers = Array.from({ length: 3 }, async () => {
      while (!stop) {
        const res = await synthesize(node.url, { text: 'Continuous load during a swap.' });
        await res.arrayBuffer();
        statuses.push(res.status);
        if (res.status === 200) versions.add(res.headers.get('x-model-version') ?? '?');
      }
    });
    // Counted, not timed: a loaded machine slows the requests, never the assertions.
    const completed = async (n: number) => {
      const until = performance.now() + 30_000;
      while (statuses.length < n && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    };
    await completed(6);
    await publishPack(source, modelsDir);
    const result = await reload();
    expect(result.status).toBe(200);
    expect(result.body.loaded).toEqual([{ name: 'flite', version: '1.1.0' }]);
    await completed(statuses.length + 6);
    stop = true;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThanOrEqual(12);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect([...versions].sort()).toEqual(['1.0.0', '1.1.0']);
    expect(await servedVersion()).toBe('1.1.0');
  });

  it('refuses a pack with a corrupt file and keeps serving the old version', async () => {
    const live = path.join(modelsDir, 'flite');
    const voices = path.join(live, 'voices.json');
    const original = await readFile(voices, 'utf8');
    await stampPack(live, { version: '1.2.0' });
    await writeFile(voices, original.replace('"slt"', '"rms"')); // same size, different bytes
    const result = await reload();
    expect(result.body.refused).toEqual([expect.objectContaining({ code: 'checksum_mismatch' })]);
    expect(await servedVersion()).toBe('1.1.0');
    const line = await waitForLog(node, (l) => l.msg === 'model pack refused; previous version keeps serving');
    expect(line).toMatchObject({ error_code: 'checksum_mismatch' });
  });

  it('refuses a half-written pack (truncated file, missing manifest) and keeps serving', async () => {
    const live = path.join(modelsDir, 'flite');
    await writeFile(path.join(live, 'voices.json'), '{"default": "slt"'); // truncated
    expect((await reload()).body.refused).toEqual([expect.objectContaining({ code: 'file_size_mismatch' })]);
    await rm(path.join(live, 'manifest.json'));
    expect((await reload()).body.refused).toEqual([expect.objectContaining({ code: 'manifest_missing' })]);
    expect(await servedVersion()).toBe('1.1.0');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/voxgate_node_pack_reloads_total\{result="refused"\} [3-9]/);
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight work on SIGTERM, turns unready, and exits 0', async () => {
    const inflight = synthesize(node.url, { text: 'Finish me before you go, please, all of this sentence.' });
    await new Promise((r) => setTimeout(r, 30));
    const exit = node.stop('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(await exit).toBe(0);
    expect(node.logs.some((l) => l.msg === 'runtime closed' && l.drained === true)).toBe(true);
  });
});
