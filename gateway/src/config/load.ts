/**
 * Reads, validates and freezes the gateway configuration. The only file that touches the
 * filesystem or `process.env` for configuration. A file that fails validation throws a
 * `ConfigError` listing every issue with its path; callers doing a reload keep the running
 * configuration (see `gateway.ts` `reload()`).
 * @module
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  readonly code = 'VOX_ERR_CONFIG_INVALID';
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/**
 * Paths of own `__proto__` keys anywhere in a parsed document. YAML and JSON.parse create them as
 * plain keys; zod's record drops them silently, so an entry named `__proto__` would vanish from
 * the config instead of being refused.
 */
function protoKeys(value: unknown, at: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const key of Object.keys(value)) {
    if (key === '__proto__') found.push([...at, key].join('.'));
    found.push(...protoKeys((value as Record<string, unknown>)[key], [...at, key]));
  }
  return found;
}

/** A zod issue as one line; a refused record key shows why its key was refused. */
function describeIssue(i: z.core.$ZodIssue): string {
  const nested = 'issues' in i && Array.isArray(i.issues) ? (i.issues as { message: string }[]).map((n) => n.message) : [];
  return `${i.path.length ? i.path.join('.') : '(root)'}: ${nested.length ? `${i.message}: ${nested.join('; ')}` : i.message}`;
}

/** Validates an already-parsed object. Throws `ConfigError`. */
export function parseConfig(raw: unknown, overrides: { region?: string | undefined } = {}): Config {
  const proto = protoKeys(raw);
  if (proto.length > 0) {
    const issues = proto.map((p) => `${p}: __proto__ is not allowed as a name`);
    throw new ConfigError(`invalid gateway config: ${issues.join('; ')}`, issues);
  }
  const input = raw !== null && typeof raw === 'object' && overrides.region ? { ...(raw as object), region: overrides.region } : raw;
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(describeIssue);
    throw new ConfigError(`invalid gateway config: ${issues.join('; ')}`, issues);
  }
  return deepFreeze(result.data);
}

/** Parses YAML (JSON is YAML) text. Throws `ConfigError`. */
export function parseConfigText(text: string, overrides: { region?: string | undefined } = {}): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config is not valid YAML: ${(err as Error).message}`, [(err as Error).message]);
  }
  return parseConfig(raw, overrides);
}

/**
 * Loads a config file.
 * @example
 * const config = loadConfigFile('config/local.yaml', { region: 'cn-south-1' });
 */
export function loadConfigFile(path: string, overrides: { region?: string | undefined } = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, [(err as Error).message]);
  }
  return parseConfigText(text, overrides);
}

/** Calls `onChange` when the file's mtime or size changes (polling, so editors that rename work). */
export function watchConfigFile(path: string, onChange: () => void, intervalMs = 300): () => void {
  const listener = (curr: { mtimeMs: number; size: number }, prev: { mtimeMs: number; size: number }) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size) onChange();
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}

/** `PORT`/`VOXGATE_REGION` from the environment, read here and nowhere else. */
export function envOverrides(): { port?: number; region?: string } {
  const out: { port?: number; region?: string } = {};
  const port = process.env['PORT'];
  if (port !== undefined && /^\d+$/.test(port)) out.port = Number(port);
  const region = process.env['VOXGATE_REGION'];
  if (region) out.region = region;
  return out;
}
