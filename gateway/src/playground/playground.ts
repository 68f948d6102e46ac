/**
 * `GET /`: the playground page. Plain HTML and a small script, no build step; the demo keys,
 * voices and regions it offers are injected from the running config when the page is requested.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import type { Config } from '../config/schema.ts';

const template = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

/**
 * Only plain-text keys of a `local: true` config reach the page: real configs hold hashes. Each
 * key carries the voices its plan accepts, those of the plan's primary model (request-path/plan):
 * a voice only the fallback knows would be refused with `unknown_voice`.
 */
export function playgroundBootstrap(config: Config) {
  const voicesOf = (plan: string) => {
    const primary = config.plans[plan]?.primary;
    return config.models.find((m) => m.id === primary)?.voices ?? [];
  };
  return {
    keys: config.local ? config.keys.flatMap((k) => ('key' in k && typeof k.key === 'string' ? [{ key: k.key, plan: k.plan, voices: voicesOf(k.plan) }] : [])) : [],
    regions: config.regions.map((r) => r.name),
  };
}

export function createPlaygroundHandler(getConfig: () => Config) {
  return function playground(c: Context) {
    // `<` escaped so no value can close the <script> element it is embedded in.
    const json = JSON.stringify(playgroundBootstrap(getConfig())).replaceAll('<', '\\u003c');
    // A replacer function: a replacement string would read `$'`, `$&` or `$$` in a config value
    // as a pattern and splice parts of the page into the JSON.
    return c.html(template.replace('__BOOTSTRAP__', () => json), 200, {
      'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; media-src blob:; connect-src 'self'",
    });
  };
}
