/**
 * The playground's bootstrap, without a browser: the voices each plan is offered, and config
 * values that look like `String.replace` patterns reaching the page verbatim.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../gateway/src/config/load.ts';
import { createPlaygroundHandler, playgroundBootstrap } from '../../gateway/src/playground/playground.ts';
import { baseConfig } from '../harness/index.ts';

/** The harness config with one region (the cluster fills regions in when it starts nodes). */
function config(extra: (raw: Record<string, unknown>) => void = () => {}) {
  const raw = { ...baseConfig(), regions: [{ name: 'north', nodes: [{ id: 'n1', url: 'http://127.0.0.1:9', models: ['flite-hd', 'flite-fast'] }] }] };
  extra(raw);
  return parseConfig(raw);
}

function bootstrapOf(html: string): unknown {
  const m = /<script type="application\/json" id="bootstrap">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!);
}

describe('playground bootstrap', () => {
  it("offers each key only the voices of its plan's primary model", () => {
    const c = config();
    const boot = playgroundBootstrap(c);
    expect(boot.keys.length).toBeGreaterThan(0);
    for (const k of boot.keys) {
      const primary = c.models.find((m) => m.id === c.plans[k.plan]!.primary)!;
      expect(k.voices).toEqual(primary.voices);
    }
    // flite-fast's voice is not one the plans' primary (flite-hd) accepts.
    expect(boot.keys.flatMap((k) => k.voices)).not.toContain('kal');
  });

  it("puts a config string with `$'`, `$&` and `$$` into the page verbatim", async () => {
    const odd = "demo-$'-$&-$$-$`";
    const c = config((raw) => {
      raw.keys = [...(raw.keys as object[]), { key: odd, tenant: 'odd', plan: 'pro' }];
    });
    const app = new Hono();
    app.get(
      '/',
      createPlaygroundHandler(() => c),
    );
    const res = await app.request('/');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.match(/<\/html>/g)).toHaveLength(1);
    const boot = bootstrapOf(html) as { keys: { key: string }[] };
    expect(boot.keys.map((k) => k.key)).toContain(odd);
  });
});
