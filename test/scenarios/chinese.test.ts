/**
 * Chinese on the shipped plans (config/local.yaml's models, plans and keys) with real node
 * runtimes serving flite and espeak-zh: Chinese and English through both endpoints on every
 * plan answer 200 with speech in them (Silero VAD) and grow with the text; a mixed text keeps its
 * Chinese name; numbers are read, not dropped; Thai is refused by name.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { resample } from '../../gateway/src/canary/audio/resample.ts';
import { SileroVad } from '../../gateway/src/canary/vad/silero.ts';
import { decodeWav } from '../../node-runtime/src/audio/wav.ts';
import { call, REPO_ROOT, startCluster, type CallResult, type Cluster } from '../harness/index.ts';
import { hasChromium, launchChromium } from '../support/browser.ts';
import { hasCommand, systemPackage } from '../support/system-package.ts';

const espeak = systemPackage('espeak-ng', () => hasCommand('espeak-ng'), 'apt-get install -y espeak-ng');
const browserReady =
  espeak &&
  systemPackage('chromium', () => hasChromium, 'apt-get install -y chromium') &&
  systemPackage(
    'fonts-wqy-zenhei',
    () => hasCommand('fc-list', [':lang=zh']) && spawnSync('fc-list', [':lang=zh'], { encoding: 'utf8' }).stdout.trim() !== '',
    'apt-get install -y fonts-wqy-zenhei',
  );

interface LocalConfig {
  models: { id: string; role: string }[];
  plans: Record<string, Record<string, unknown>>;
  keys: { key: string; plan: string }[];
}
const local = parseYaml(readFileSync(path.join(REPO_ROOT, 'config/local.yaml'), 'utf8')) as LocalConfig;
const SERVING = ['flite-hd', 'flite-fast', 'espeak-zh'];
const PLANS = Object.keys(local.plans);
const keyOf = (plan: string) => local.keys.find((k) => k.plan === plan)!.key;

const ZH_SHORT = '你好，欢迎使用语音合成服务。';
const ZH_LONG = '你好，欢迎使用语音合成服务。今天天气很好，我们一起去公园散步吧。明天见！';
const EN_SHORT = 'Hello, and welcome to the speech service.';
const EN_LONG = 'Hello, and welcome to the speech service. The weather is lovely today, so let us take a walk in the park. See you tomorrow!';

let cluster: Cluster;
let url: string;
let vad: SileroVad;

function speak(endpoint: 'native' | 'openai', plan: string, text: string, extra: Record<string, unknown> = {}): Promise<CallResult> {
  return endpoint === 'native'
    ? call(url, keyOf(plan), { text, format: 'wav', ...extra })
    : call(url, keyOf(plan), { model: 'tts-1-hd', input: text, voice: 'alloy', response_format: 'wav', ...extra }, { path: '/v1/audio/speech' });
}

/** Seconds of audio and the Silero VAD speech fraction of a WAV answer. */
async function measure(r: CallResult): Promise<{ seconds: number; speech: number }> {
  const wav = decodeWav(r.body);
  const f32 = Float32Array.from(wav.samples, (s) => s / 32768);
  const { speechFraction } = await vad.speechFraction(wav.sampleRate === 16_000 ? f32 : resample(f32, wav.sampleRate, 16_000));
  return { seconds: wav.durationS, speech: speechFraction };
}

beforeAll(async () => {
  if (!espeak) return;
  vad = await SileroVad.load();
  cluster = await startCluster({
    regions: [{ name: 'cn-north-1', nodes: [{ packs: ['flite', 'flite-fast', 'espeak-zh'], models: SERVING, slots: 2, queue: 16 }] }],
    gateway: {
      models: local.models.filter((m) => SERVING.includes(m.id)),
      // The shipped plans, with room for this test's requests in their rate limits, and text
      // limits within what the harness's nodes accept (their default, not local.yaml's 5000).
      plans: Object.fromEntries(
        Object.entries(local.plans).map(([name, p]) => [
          name,
          { ...p, rate_limit: { rps: 100, burst: 100 }, max_text_chars: Math.min(Number(p['max_text_chars']), 2000) },
        ]),
      ),
      keys: local.keys,
      // This test is about languages, not failure handling: on a loaded 2-core box a health probe
      // or a formant synthesis can take seconds, which must not eject the one node.
      health: { interval_ms: 500, timeout_ms: 3000, healthy_threshold: 1, unhealthy_threshold: 5 },
      timeouts: { attempt_ms: 15_000, connect_ms: 1000, capacity_wait_ms: 5000 },
      breaker: { volume_threshold: 50, slow_call_base_ms: 30_000 },
      outlier_detection: { consecutive_failures: 20 },
    },
  });
  url = cluster.gateway.url;
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await vad?.close();
});

describe.skipIf(!espeak)('Chinese and English on every shipped plan', () => {
  for (const plan of PLANS)
    for (const endpoint of ['native', 'openai'] as const)
      it(`${plan} · ${endpoint}: 200 with speech, longer for longer text, Chinese by espeak-zh`, async () => {
        const [zhShort, zhLong, enShort, enLong] = await Promise.all([
          speak(endpoint, plan, ZH_SHORT),
          speak(endpoint, plan, ZH_LONG),
          speak(endpoint, plan, EN_SHORT),
          speak(endpoint, plan, EN_LONG),
        ]);
        for (const r of [zhShort, zhLong, enShort, enLong]) expect(r.status, r.body.toString().slice(0, 300)).toBe(200);
        expect([zhShort.headers['x-model'], zhLong.headers['x-model']]).toEqual(['espeak-zh', 'espeak-zh']);
        expect(['flite-hd', 'flite-fast']).toContain(enShort.headers['x-model']);
        const [zs, zl, es, el] = await Promise.all([measure(zhShort), measure(zhLong), measure(enShort), measure(enLong)]);
        for (const m of [zs, zl, es, el]) expect(m.speech).toBeGreaterThan(0.5);
        expect(zs.seconds).toBeGreaterThan(1);
        expect(zl.seconds).toBeGreaterThan(zs.seconds * 1.5);
        expect(el.seconds).toBeGreaterThan(es.seconds * 1.5);
      }, 60_000);

  it('a mixed text keeps its Chinese name: served whole by a model that speaks both', async () => {
    const withName = await speak('native', 'pro', 'Please call 张伟 at the Beijing office tomorrow morning.');
    const without = await speak('native', 'pro', 'Please call at the Beijing office tomorrow morning.');
    expect([withName.status, withName.headers['x-model']]).toEqual([200, 'espeak-zh']);
    expect((await measure(withName)).seconds).toBeGreaterThan((await measure(without)).seconds + 0.3);
  });

  it('numbers, dates, money and percentages are read, exactly as if spelled out', async () => {
    const same = async (written: string, spoken: string, voice: string) => {
      const [a, b] = await Promise.all([speak('native', 'enterprise', written, { voice }), speak('native', 'enterprise', spoken, { voice })]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.headers['x-model']).toBe(b.headers['x-model']);
      expect(Buffer.compare(a.body, b.body), `${written} vs ${spoken}`).toBe(0);
    };
    await same('会议在2026-12-03 15:30，门票¥38，打50%折。', '会议在二〇二六年十二月三日 十五点三十分，门票三十八元，打百分之五十折。', 'mandarin');
    await same('It costs $12.50 at 3:05 pm, 50% off.', 'It costs twelve dollars and fifty cents at three oh five p.m., fifty percent off.', 'slt');
  });

  it('Thai, which no model speaks, is 422 unsupported_language naming the language and its characters', async () => {
    for (const endpoint of ['native', 'openai'] as const)
      for (const plan of PLANS) {
        const r = await speak(endpoint, plan, 'Hello สวัสดีครับ');
        expect(r.status).toBe(422);
        const body = r.body.toString();
        expect(body).toContain('unsupported_language');
        expect(body).toContain('Thai');
        expect(body).toContain('สวัสดีครับ');
      }
  });
});

describe.skipIf(!browserReady)('the playground speaks Chinese (headless Chromium)', () => {
  it('offers Chinese voices and examples, renders them in a CJK font, and plays the Chinese answer', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${url}/`);
      const voices = await page.locator('#voice optgroup').evaluateAll((gs) => gs.map((g) => [(g as HTMLOptGroupElement).label, g.children.length]));
      expect(voices).toContainEqual(['中文 Chinese + English', 3]);
      await page.selectOption('#example', { label: '中文 Chinese' });
      expect(await page.inputValue('#text')).toContain('欢迎使用语音合成服务');
      await page.selectOption('#plan', { index: 0 });
      await page.click('#go');
      await page.waitForFunction(
        () => {
          const audio = document.querySelector('audio');
          return audio !== null && Number.isFinite(audio.duration) && audio.duration > 0;
        },
        undefined,
        { timeout: 30_000 },
      );
      expect(await page.evaluate(() => document.querySelector('audio')!.duration)).toBeGreaterThan(2);
      expect(await page.locator('dd[data-h="x-model"]').innerText()).toBe('espeak-zh');
      expect(await page.locator('#error').innerText()).toBe('');

      // The glyphs Chromium drew for the Chinese text came from a CJK font, not boxes.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('DOM.enable');
      await cdp.send('CSS.enable');
      const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#example' });
      await page.selectOption('#example', { label: '中文 Chinese' });
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      expect(fonts.map((f) => f.familyName).join(',')).toMatch(/WenQuanYi|Noto Sans CJK|Noto Serif CJK|Droid Sans Fallback/);

      await page.selectOption('#example', { label: 'Thai (no model speaks it: 422)' });
      await page.click('#go');
      await page.waitForFunction(() => document.querySelector('#error')!.textContent !== '');
      expect(await page.locator('#error').innerText()).toMatch(/^422 unsupported_language: .*Thai/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
