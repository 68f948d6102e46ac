/**
 * The report's three faces on one store: the JSON (contract shape), the page in headless
 * Chromium (charts, verdict badges, reasons) and the CLI; and the store surviving a restart of
 * the service.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../support/browser.ts';
import { CanaryService } from '../../gateway/src/canary/canary-service.ts';
import { CanaryJudgeSchema, CanarySchema } from '../../gateway/src/config/canary.ts';
import { mountCanaryRoutes } from '../../gateway/src/canary/report/routes.ts';
import { CanaryStore } from '../../gateway/src/canary/store/canary-store.ts';
import { systemClock } from '../../gateway/src/lifecycle/clock.ts';
import { createLogger } from '../../gateway/src/observability/logger.ts';
import { GOOD, NOISE, makePairs } from './support/pairs.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
let dir: string;
let file: string;
const canaries = [CanarySchema.parse({ canary: 'flite-rms', baseline: 'flite' }), CanarySchema.parse({ canary: 'noise', baseline: 'flite' })];

function service(): CanaryService {
  return new CanaryService({
    canaries: () => canaries,
    judge: () => CanaryJudgeSchema.parse({ store: file, asr: 'off' }),
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxgate-report-'));
  file = path.join(dir, 'canary.sqlite');
  const store = new CanaryStore(file);
  const seed = (name: string, shape: typeof GOOD) => {
    const pairs = makePairs(40, { ...shape, wer: shape === NOISE ? 1 : 0.12 }, { name });
    pairs.forEach((p, i) => {
      store.addPair(p);
      if (i % 10 === 9) store.addVerdict(name, { at: p.at, verdict: i < 29 ? 'hold' : shape === NOISE ? 'rollback' : 'promote', compared: i + 1, reasons: [] });
    });
    store.count(name, 'eligible', 800);
    store.count(name, 'sampled', 40);
    store.count(name, 'mirrored', 40);
    store.count(name, 'compared', 40);
  };
  seed('flite-rms', GOOD);
  seed('noise', NOISE);
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('canary report', () => {
  it('serves the contract shape and survives a service restart', async () => {
    const a = service();
    const first = a.report();
    await a.close();
    const b = service();
    const second = b.report();
    await b.close();
    for (const r of [first, second]) {
      const [good, noise] = r.canaries;
      expect(Object.keys(good!)).toEqual(
        expect.arrayContaining(['canary', 'baseline', 'sample_rate', 'mirrored', 'compared', 'errors', 'latency_ms', 'audio', 'verdict', 'reasons']),
      );
      expect(good).toMatchObject({
        canary: 'flite-rms',
        baseline: 'flite',
        sample_rate: 0.05,
        mirrored: 40,
        compared: 40,
        measured_share: 0.05,
        verdict: 'promote',
      });
      expect(noise!.verdict).toBe('rollback');
      expect(noise!.latency_ms.canary.p99).toBeGreaterThan(noise!.latency_ms.baseline.p99!);
      expect(noise!.history.map((h) => h.verdict)).toEqual(['hold', 'hold', 'rollback', 'rollback']);
    }
    expect(second.canaries.map((c) => c.compared)).toEqual(first.canaries.map((c) => c.compared));
  });

  it.runIf(hasChromium)('renders the page with charts in headless Chromium', async () => {
    const svc = service();
    const app = new Hono();
    mountCanaryRoutes(app, () => svc.report());
    const server: ServerType = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const port = (server.address() as { port: number }).port;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${port}/canary`);
      expect(await page.title()).toBe('voxgate canary report');
      expect(await page.locator('section.canary').count()).toBe(2);
      expect(await page.locator('section[data-canary="noise"]').getAttribute('data-verdict')).toBe('rollback');
      expect(await page.locator('section[data-canary="flite-rms"] .verdict').innerText()).toMatch(/promote/i);
      const reasons = await page.locator('section[data-canary="noise"] .reasons').innerText();
      expect(reasons).toMatch(/speech_fraction/);
      expect(reasons).toMatch(/spectral_distance/);
      // Latency histogram, distance histogram, box plots, verdict timeline — per canary.
      expect(await page.locator('section[data-canary="noise"] svg.chart').count()).toBeGreaterThanOrEqual(10);
      expect(await page.locator('svg[aria-label="latency distribution"] rect').count()).toBeGreaterThan(20);
      expect(await page.locator('section[data-canary="noise"] svg[aria-label="verdict over time"] rect.verdict-rollback').count()).toBe(2);
      const box = await page.locator('svg[aria-label="speech fraction"]').first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(errors).toEqual([]);
      const json = await (await fetch(`http://127.0.0.1:${port}/v1/canary/report`)).json();
      expect(json.canaries).toHaveLength(2);
    } finally {
      await browser.close();
      await new Promise((r) => server.close(r));
      await svc.close();
    }
  });

  it('prints the same report in the terminal and exits 3 on a rollback', async () => {
    expect(existsSync(file)).toBe(true);
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'gateway/src/canary/cli.ts', '--store', file], { cwd: REPO }, (err, out) =>
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout: out }),
      ),
    );
    expect(code).toBe(3);
    expect(stdout).toMatch(/noise vs flite: ROLLBACK/);
    expect(stdout).toMatch(/flite-rms vs flite: PROMOTE/);
    expect(stdout).toMatch(/speech fraction/);
    expect(stdout).toMatch(/measured share 5\.00% \(40\/800\)/);
  });
});
