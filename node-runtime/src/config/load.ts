/**
 * Builds the runtime config from an optional YAML file plus command-line flags (flags win), and
 * freezes it. The only file that reads argv or the environment.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { RuntimeConfigSchema, type RuntimeConfig } from './schema.ts';

const FLAGS = {
  config: { type: 'string' },
  'node-id': { type: 'string' },
  region: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'models-dir': { type: 'string' },
  models: { type: 'string' },
  slots: { type: 'string' },
  queue: { type: 'string' },
  'deadline-ms': { type: 'string' },
  'max-text-chars': { type: 'string' },
  'admin-token': { type: 'string' },
  'log-level': { type: 'string' },
  providers: { type: 'string' },
} as const;

export function loadRuntimeConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Readonly<RuntimeConfig> {
  const { values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  const fromFile: Record<string, unknown> = values.config ? ((parseYaml(readFileSync(values.config, 'utf8')) as Record<string, unknown> | null) ?? {}) : {};
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
  const overrides: Record<string, unknown> = {
    node_id: values['node-id'],
    region: values.region,
    host: values.host,
    port: num(values.port),
    models_dir: values['models-dir'],
    models: list(values.models),
    slots: num(values.slots),
    queue_limit: num(values.queue),
    default_deadline_ms: num(values['deadline-ms']),
    max_text_chars: num(values['max-text-chars']),
    // The admin token is a secret: prefer the environment over argv, which `ps` shows.
    admin_token: values['admin-token'] ?? env.VOXGATE_ADMIN_TOKEN,
    log_level: values['log-level'],
  };
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value;
  const providers = list(values.providers);
  if (providers) merged.execution = { ...((merged.execution as object | undefined) ?? {}), providers };
  return Object.freeze(RuntimeConfigSchema.parse(merged));
}
