/**
 * Builds the runtime config from an optional YAML file plus command-line flags (flags win), and
 * freezes it. The only file that reads argv or the environment.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { defineCommand, parserOptions } from '../../../cli/command-line.ts';
import { RuntimeConfigSchema, type RuntimeConfig } from './schema.ts';

/** The runtime's command line; main.ts prints its help, loadRuntimeConfig parses it. */
export const RUNTIME_COMMAND = defineCommand({
  name: 'npm run node --',
  summary:
    'A voxgate node runtime: serves the model packs in --models-dir over HTTP (one per GPU).\nCompiled: node dist/node-runtime/src/main.js [options]. Flags override the --config file.',
  options: {
    config: { type: 'string', value: 'FILE', help: 'runtime config (YAML); flags win over it' },
    'node-id': { type: 'string', value: 'ID', help: 'node id reported in /v1/load and logs (default: node-1)' },
    region: { type: 'string', value: 'NAME', help: 'region label (default: local)' },
    host: { type: 'string', value: 'ADDR', help: 'listen address (default: 127.0.0.1)' },
    port: { type: 'string', value: 'N', help: 'listen port, 0 for an ephemeral one (default: 7001)' },
    'models-dir': { type: 'string', value: 'DIR', help: 'directory of model packs (default: models)' },
    models: { type: 'string', value: 'A,B', help: 'packs to serve (default: every pack in --models-dir)' },
    slots: { type: 'string', value: 'N', help: 'concurrent syntheses (default: 2)' },
    queue: { type: 'string', value: 'N', help: 'bounded queue length behind the slots (default: 8)' },
    'deadline-ms': { type: 'string', value: 'MS', help: 'deadline when the caller sends none (default: 30000)' },
    'max-text-chars': { type: 'string', value: 'N', help: 'longest text one request may carry, in characters (default: 4000)' },
    'admin-token': { type: 'string', value: 'TOKEN', help: 'admin API token; prefer env VOXGATE_ADMIN_TOKEN (argv is visible in ps)' },
    'log-level': { type: 'string', value: 'LEVEL', help: 'fatal|error|warn|info|debug|trace|silent (default: info)' },
    providers: { type: 'string', value: 'LIST', help: 'onnxruntime execution providers in order, e.g. cuda,cpu (default: cpu)' },
  },
  notes:
    'Endpoints: GET /healthz /readyz /v1/load /metrics, POST /v1/synthesize, POST /admin/models/reload.\nSignals: SIGHUP reloads packs; SIGTERM/SIGINT drain and exit 0.',
});

export function loadRuntimeConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Readonly<RuntimeConfig> {
  const { values } = parseArgs({ args: argv, options: parserOptions(RUNTIME_COMMAND.options), strict: true, allowPositionals: false });
  const fromFile: Record<string, unknown> = values.config ? ((parseYaml(readFileSync(values.config, 'utf8')) as Record<string, unknown> | null) ?? {}) : {};
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const list = (v: string | undefined): string[] | undefined =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
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
