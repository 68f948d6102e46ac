/**
 * The ChatTTS request fields over real HTTP: a node serving the tiny chattts pack (one slot, so
 * deterministic), and a gateway in front of it that forwards them. `refine_text`: on and off make
 * different code tokens for the same seed (checked on the in-process run the HTTP audio equals
 * byte for byte), each deterministic. `first_sentence_prompt`: a three-sentence text is
 * conditioned by default, off on request, and a conditioned answer resumed at a sample offset
 * (how a gateway resumes a stream on another node) is the same samples. The gateway's answers are
 * the node's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../../../node-runtime/src/audio/wav.ts';
import type { LocalChattts } from '../../../../node-runtime/src/engines/chattts/local-engine.ts';
import type { PipelineTrace } from '../../../../node-runtime/src/engines/chattts/pipeline.ts';
import { startCluster, type Cluster } from '../../../harness/index.ts';
import { loadTinyEngine } from './helpers.ts';

const TEXT = 'hello world, this is a test.';
const THREE = '你好，世界。今天天气很不错。hello world, this is a test.';
const SEED = 21;

let cluster: Cluster;
let local: LocalChattts;
const jobsDir = mkdtempSync(join(tmpdir(), 'voxgate-chattts-jobs-'));

beforeAll(async () => {
  cluster = await startCluster({
    regions: [{ name: 'north', nodes: 1 }],
    node: { modelsDir: 'models', packs: ['chattts-tiny'], slots: 1, queue: 8 },
    gateway: {
      models: [
        { id: 'chattts', role: 'primary', engine: 'chattts', pack: 'chattts-tiny', languages: ['zh', 'en'], voices: ['default'], default_voice: 'default' },
      ],
      // Every plan of the base config on the one chattts model (plans deep-merge, models replace).
      plans: {
        free: { primary: 'chattts', fallback: 'chattts' },
        pro: { primary: 'chattts', fallback: 'chattts' },
        enterprise: {
          policy: 'primary_always',
          primary: 'chattts',
          fallback: 'chattts',
          max_text_chars: 300,
          long_text: 'truncate',
          rate_limit: { rps: 1000, burst: 1000 },
          load_share: 1,
          timeout_ms: 30_000,
          jobs: { max_chars: 10_000, max_pending: 4, chars_per_day: 100_000 },
        },
      },
      timeouts: { attempt_ms: 20_000 },
      jobs: { store_path: join(jobsDir, 'jobs.sqlite'), audio_dir: join(jobsDir, 'audio'), poll_ms: 50 },
    },
  });
  local = await loadTinyEngine();
}, 60_000);
afterAll(async () => {
  await local?.dispose();
  await cluster?.close();
  rmSync(jobsDir, { recursive: true, force: true });
});

async function samples(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.status, Buffer.from(bytes).toString('utf8').slice(0, 300)).toBe(200);
  if (body.format === 'pcm') return Buffer.from(bytes);
  const w = decodeWav(bytes);
  return Buffer.from(w.samples.buffer, w.samples.byteOffset, w.samples.byteLength);
}

const node = (refine: boolean) =>
  samples(`${cluster.nodes[0]!.directUrl}/v1/synthesize`, { model: 'chattts-tiny', text: TEXT, seed: SEED, refine_text: refine });

async function codes(refine: boolean) {
  const trace: PipelineTrace = { sentences: [] };
  const r = await local.run({ text: TEXT, seed: SEED, refineText: refine, trace, signal: new AbortController().signal });
  return { pcm: Buffer.from(r.pcm.buffer, r.pcm.byteOffset, r.pcm.byteLength), codes: trace.sentences.map((s) => s.codes) };
}

describe('refine_text per request', () => {
  it('on and off make different tokens for the same seed; each is deterministic over HTTP', async () => {
    const [on1, off1, on2, off2] = [await node(true), await node(false), await node(true), await node(false)];
    expect(on1.equals(on2)).toBe(true);
    expect(off1.equals(off2)).toBe(true);
    expect(on1.equals(off1)).toBe(false);
    const on = await codes(true);
    const off = await codes(false);
    expect(on1.equals(on.pcm)).toBe(true);
    expect(off1.equals(off.pcm)).toBe(true);
    expect(on.codes).not.toEqual(off.codes);
    // The pack refines by default: a request without the field is the refined one.
    expect((await samples(`${cluster.nodes[0]!.directUrl}/v1/synthesize`, { model: 'chattts-tiny', text: TEXT, seed: SEED })).equals(on1)).toBe(true);
  });

  it('the gateway forwards refine_text to the node', async () => {
    const viaGateway = (refine: boolean) =>
      samples(
        `${cluster.gateway.url}/v1/synthesize`,
        { text: TEXT, seed: SEED, format: 'wav', refine_text: refine },
        { authorization: 'Bearer demo-enterprise' },
      );
    expect((await viaGateway(false)).equals(await node(false))).toBe(true);
    expect((await viaGateway(true)).equals(await node(true))).toBe(true);
  });

  it('a job keeps refine_text: its audio is the node’s with the same seed and switch', async () => {
    const auth = { 'content-type': 'application/json', authorization: 'Bearer demo-enterprise' };
    const created = await fetch(`${cluster.gateway.url}/v1/jobs`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ text: TEXT, seed: SEED, format: 'wav', refine_text: false }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    let status = '';
    for (let i = 0; i < 300 && status !== 'succeeded' && status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = ((await (await fetch(`${cluster.gateway.url}/v1/jobs/${id}`, { headers: auth })).json()) as { status: string }).status;
    }
    expect(status).toBe('succeeded');
    const wav = decodeWav(new Uint8Array(await (await fetch(`${cluster.gateway.url}/v1/jobs/${id}/audio`, { headers: auth })).arrayBuffer()));
    const job = Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength);
    expect(job.equals(await node(false))).toBe(true);
    expect(job.equals(await node(true))).toBe(false);
  });

  it('the OpenAI endpoint takes refine_text too (an SDK’s extra body field)', async () => {
    const speech = async (refine: boolean) => {
      const res = await fetch(`${cluster.gateway.url}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer demo-enterprise' },
        body: JSON.stringify({ model: 'tts-1-hd', voice: 'alloy', input: TEXT, response_format: 'pcm', refine_text: refine }),
      });
      expect(res.status).toBe(200);
      // OpenAI bodies carry no seed: the gateway draws one and says which.
      const seed = Number(res.headers.get('x-seed'));
      return { pcm: Buffer.from(await res.arrayBuffer()), seed };
    };
    for (const refine of [false, true]) {
      const { pcm, seed } = await speech(refine);
      const direct = await samples(`${cluster.nodes[0]!.directUrl}/v1/synthesize`, {
        model: 'chattts-tiny',
        text: TEXT,
        seed,
        refine_text: refine,
        format: 'pcm',
      });
      expect(pcm.equals(direct)).toBe(true);
    }
  });

  it('first_sentence_prompt: on by default for several sentences, off on request, resumable at an offset, forwarded', async () => {
    const url = `${cluster.nodes[0]!.directUrl}/v1/synthesize`;
    const body = { model: 'chattts-tiny', text: THREE, seed: SEED, format: 'pcm' };
    const conditioned = await samples(url, body);
    const plain = await samples(url, { ...body, first_sentence_prompt: false });
    expect((await samples(url, { ...body, first_sentence_prompt: true })).equals(conditioned)).toBe(true);
    expect(conditioned.equals(plain)).toBe(false);
    const trace: PipelineTrace = { sentences: [] };
    await local.run({ text: THREE, seed: SEED, trace, signal: new AbortController().signal });
    const first = 512 * trace.sentences[0]!.codes.length;
    // The first sentence is the same audio either way; the rest is conditioned on it.
    expect(conditioned.subarray(0, 2 * first).equals(plain.subarray(0, 2 * first))).toBe(true);
    // Resumed past the first sentence: the node regenerates it (the prompt comes from the request
    // alone) and sends the same samples from the offset on.
    const offset = first + 700;
    const resumed = await samples(url, { ...body, offset_samples: offset });
    expect(resumed.equals(conditioned.subarray(2 * offset))).toBe(true);
    const viaGateway = (extra: Record<string, unknown>) =>
      samples(`${cluster.gateway.url}/v1/synthesize`, { text: THREE, seed: SEED, format: 'pcm', ...extra }, { authorization: 'Bearer demo-enterprise' });
    expect((await viaGateway({ first_sentence_prompt: false })).equals(plain)).toBe(true);
    expect((await viaGateway({})).equals(conditioned)).toBe(true);
  });

  it('refuses a refine_text that is not a boolean, at the node and at the gateway', async () => {
    const bad = { text: TEXT, refine_text: 'yes' };
    const n = await fetch(`${cluster.nodes[0]!.directUrl}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chattts-tiny', ...bad }),
    });
    expect(n.status).toBe(400);
    const g = await fetch(`${cluster.gateway.url}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer demo-enterprise' },
      body: JSON.stringify(bad),
    });
    expect(g.status).toBe(400);
    expect(((await g.json()) as { error: { code: string; param?: string } }).error).toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('refine_text') as unknown,
    });
  });
});
