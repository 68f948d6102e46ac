/**
 * The playground page end to end in headless Chromium against a real two-region cluster.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../harness/index.ts';
import { hasChromium, launchChromium } from '../support/browser.ts';

let cluster: Cluster;
let browser: Browser;

describe.runIf(hasChromium)('playground page (GET /)', () => {
  beforeAll(async () => {
    cluster = await startCluster({
      regions: [
        { name: 'cn-north-1', nodes: 1 },
        { name: 'cn-south-1', nodes: 1 },
      ],
    });
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
  });

  it('synthesizes, plays the audio and fills the served-by panel; the live panel lists every node', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${cluster.gateway.url}/`);
    await page.waitForSelector('#regions table');
    expect(await page.locator('#regions').innerText()).toMatch(/cn-north-1-1[\s\S]*cn-south-1-1/);

    await page.fill('#text', 'The playground speaks through the gateway.');
    await page.selectOption('#plan', { index: 1 });
    await page.click('#go');
    await page.waitForFunction(
      () => {
        const audio = document.querySelector('audio');
        return audio !== null && Number.isFinite(audio.duration) && audio.duration > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const duration = await page.evaluate(() => document.querySelector('audio')!.duration);
    expect(duration).toBeGreaterThan(1);
    expect(await page.locator('dd[data-h="x-model"]').innerText()).not.toBe('—');
    expect(await page.locator('dd[data-h="x-region"]').innerText()).toMatch(/^cn-(north|south)-1$/);
    expect(await page.locator('dd[data-h="x-node"]').innerText()).toMatch(/^cn-(north|south)-1-1$/);
    expect(await page.locator('dd[data-h="x-attempts"]').innerText()).toMatch(/^\d+$/);
    expect(await page.locator('#latency').innerText()).toContain('HTTP 200');
    expect(await page.locator('#error').innerText()).toBe('');
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  it('shows a clear error for a request the gateway refuses, and stops the previous clip', async () => {
    const page = await browser.newPage();
    await page.goto(`${cluster.gateway.url}/`);
    await page.fill('#text', 'A clip that plays before the error.');
    await page.click('#go');
    await page.waitForFunction(
      () => {
        const audio = document.querySelector('audio')!;
        return Number.isFinite(audio.duration) && audio.duration > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    await page.fill('#text', '');
    await page.click('#go');
    await page.waitForFunction(() => document.querySelector('#error')!.textContent !== '');
    expect(await page.locator('#error').innerText()).toMatch(/^400 /);
    const audio = await page.evaluate(() => {
      const a = document.querySelector('audio')!;
      return { paused: a.paused, src: a.getAttribute('src') };
    });
    expect(audio).toEqual({ paused: true, src: null });
  }, 60_000);

  it("offers only the voices the chosen plan's primary model has, and each one is served", async () => {
    const page = await browser.newPage();
    await page.goto(`${cluster.gateway.url}/`);
    const plans = await page.locator('#plan option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      await page.selectOption('#plan', plan);
      const voices = await page.locator('#voice option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(voices).toEqual(['', 'slt', 'rms', 'awb']);
    }
    await page.selectOption('#voice', 'awb');
    await page.fill('#text', 'Every offered voice is one the plan accepts.');
    await page.click('#go');
    await page.waitForFunction(() => document.querySelector('#latency')!.textContent !== '—', undefined, { timeout: 20_000 });
    expect(await page.locator('#latency').innerText()).toContain('HTTP 200');
  }, 60_000);
});
