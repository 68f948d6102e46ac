/**
 * The espeak packs behind a real node runtime: Chinese over HTTP with the text front end in the
 * path, and what a machine without espeak-ng does (the pack is refused with the package named,
 * the node serves its other packs, the espeak model is 404 unknown_model).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRoles } from '../../../../cluster/src/roles.ts';
import { loadConfigFile } from '../../../../gateway/src/config/load.ts';
import { decodeWav } from '../../../../node-runtime/src/audio/wav.ts';
import { hasCommand, systemPackage } from '../../../support/system-package.ts';
import { copyModels, REPO_ROOT, startRuntime, synthesize, waitForLog, type RuntimeProcess } from '../../support/runtime-process.ts';

const espeak = systemPackage('espeak-ng', () => hasCommand('espeak-ng'), 'apt-get install -y espeak-ng');

let dir: string;
beforeAll(async () => {
  dir = await copyModels(['espeak-zh', 'flite-fast']);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!espeak)('espeak-zh on a node runtime', () => {
  let node: RuntimeProcess;
  beforeAll(async () => {
    node = await startRuntime(['--models-dir', dir, '--slots', '2']);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('speaks Chinese at 22.05 kHz, with numbers read by the front end before the engine', async () => {
    const written = await synthesize(node.url, { model: 'espeak-zh', text: '你好，我有123个苹果，明天15:30见。' });
    const spoken = await synthesize(node.url, { model: 'espeak-zh', text: '你好，我有一百二十三个苹果，明天十五点三十分见。' });
    expect([written.status, written.headers.get('x-engine'), written.headers.get('x-sample-rate')]).toEqual([200, 'espeak', '22050']);
    const a = Buffer.from(await written.arrayBuffer());
    const b = Buffer.from(await spoken.arrayBuffer());
    expect(decodeWav(a).durationS).toBeGreaterThan(2);
    expect(a.equals(b)).toBe(true);
  });
});

describe('a node on a machine without espeak-ng', () => {
  let node: RuntimeProcess;
  beforeAll(async () => {
    node = await startRuntime(['--models-dir', dir, '--slots', '1'], { PATH: '/nonexistent' });
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('refuses the espeak pack naming the package, and serves its other packs', async () => {
    const refused = await waitForLog(node, (l) => l['msg'] === 'model pack refused; previous version keeps serving', 10_000);
    expect(JSON.stringify(refused)).toMatch(/espeak-ng program, which is not installed on this machine: apt-get install -y espeak-ng/);
    const load = (await (await fetch(`${node.url}/v1/load`)).json()) as { models: { name: string }[] };
    expect(load.models.map((m) => m.name)).toEqual(['flite-fast']);
    const zh = await synthesize(node.url, { model: 'espeak-zh', text: '你好' });
    expect(zh.status).toBe(404);
    expect(((await zh.json()) as { error: { code: string } }).error.code).toBe('unknown_model');
    expect((await synthesize(node.url, { model: 'flite-fast', text: 'Still here.' })).status).toBe(200);
  });

  it('npm start says so in its role list, with the package to install', () => {
    const config = loadConfigFile(`${REPO_ROOT}/config/local.yaml`);
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    let lines: string[];
    try {
      lines = describeRoles(config, `${REPO_ROOT}/models`);
    } finally {
      process.env['PATH'] = saved;
    }
    expect(lines.find((l) => l.includes('espeak-zh'))).toMatch(/UNAVAILABLE: espeak-ng is not installed \(apt-get install -y espeak-ng\)/);
    if (espeak) expect(describeRoles(config, `${REPO_ROOT}/models`).find((l) => l.includes('espeak-zh'))).toMatch(/espeak-ng, a separate program/);
  });
});
