/**
 * `GET /`: the playground page. Plain HTML and a small script, no build step; the demo keys,
 * voices and regions it offers are injected from the running config when the page is requested.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import type { Config } from '../config/schema.ts';

const template = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

/** Texts to try, one per thing the gateway does with language: the page offers them in a menu. */
export const PLAYGROUND_EXAMPLES: readonly { label: string; text: string }[] = [
  { label: 'English', text: 'Hello from voxgate. Every request ends in audio, a clear error, or a fast retry hint.' },
  { label: '中文 Chinese', text: '你好，欢迎使用语音合成服务。今天天气很好，我们一起去公园散步吧。' },
  { label: '中文 numbers, dates, money', text: '会议在2026-12-03 15:30开始，门票¥38，会员打50%折，请拨打13800138000。' },
  { label: 'English numbers, dates, money', text: 'The meeting starts at 3:30 pm on 2026-12-03. Tickets cost $12.50, members get 50% off.' },
  { label: 'Mixed 中英', text: 'Please call 张伟 at the Beijing office tomorrow morning.' },
  { label: 'Thai (no model speaks it: 422)', text: 'สวัสดีครับ' },
];

/**
 * The voices a plan accepts: those of its primary model and of each language's primary
 * (request-path/plan); a voice only a fallback knows would be refused with `unknown_voice`.
 */
function planVoices(config: Config, planName: string): string[] {
  const plan = config.plans[planName];
  if (!plan) return [];
  const primaries = [plan.primary, ...Object.values(plan.languages ?? {}).map((l) => l.primary)];
  return [...new Set(primaries.flatMap((id) => config.models.find((m) => m.id === id)?.voices ?? []))];
}

/** Only plain-text keys of a `local: true` config reach the page: real configs hold hashes. */
export function playgroundBootstrap(config: Config) {
  const voices = new Map<string, { voice: string; languages: string[]; models: string[] }>();
  for (const m of config.models.filter((x) => x.role !== 'canary'))
    for (const v of m.voices) {
      const entry = voices.get(v) ?? { voice: v, languages: [], models: [] };
      entry.languages = [...new Set([...entry.languages, ...m.languages])];
      entry.models.push(m.id);
      voices.set(v, entry);
    }
  return {
    keys: config.local
      ? config.keys.flatMap((k) => ('key' in k && typeof k.key === 'string' ? [{ key: k.key, plan: k.plan, voices: planVoices(config, k.plan) }] : []))
      : [],
    voices: [...voices.values()],
    regions: config.regions.map((r) => r.name),
    examples: PLAYGROUND_EXAMPLES,
  };
}

export function createPlaygroundHandler(getConfig: () => Config) {
  return function playground(c: Context) {
    // `<` escaped so no value can close the <script> element it is embedded in.
    const json = JSON.stringify(playgroundBootstrap(getConfig())).replaceAll('<', '\\u003c');
    // A replacer function: a replacement string would read `$'`, `$&` or `$$` in a config value
    // as a pattern and splice parts of the page into the JSON.
    return c.html(
      template.replace('__BOOTSTRAP__', () => json),
      200,
      {
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; media-src blob:; connect-src 'self'",
      },
    );
  };
}
