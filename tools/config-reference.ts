/**
 * Generates docs/configuration.md from the zod schemas themselves, so the reference cannot drift
 * from what the code accepts (test/docs/config-reference.test.ts fails when it is stale).
 *
 *   npm run docs:config
 * @module
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigSchema } from '../gateway/src/config/schema.ts';
import { RuntimeConfigSchema } from '../node-runtime/src/config/schema.ts';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  format?: string;
  pattern?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (s.type === 'object' && !s.properties && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map of ${typeOf(s.additionalProperties)}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function constraints(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minimum !== undefined && s.minimum > -Number.MAX_SAFE_INTEGER) out.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) out.push(`≤ ${s.maximum}`);
  if (s.minLength) out.push(`min length ${s.minLength}`);
  if (s.minItems) out.push(`at least ${s.minItems}`);
  if (s.format) out.push(s.format);
  if (s.pattern) out.push(`\`${s.pattern}\``);
  return out.join(', ');
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(props)) {
    const name = `${prefix}${key}`;
    const def = child.default === undefined ? (required.has(key) ? '**required**' : '') : `\`${JSON.stringify(child.default)}\``;
    const isObject = child.type === 'object' && child.properties;
    const arrayOfObjects = child.type === 'array' && child.items?.type === 'object' && child.items.properties;
    if (!isObject || !child.default) out.push(`| \`${name}\` | ${typeOf(child)} | ${isObject ? '' : def} | ${constraints(child)} |`);
    if (isObject) rows(child, `${name}.`, out);
    if (arrayOfObjects) rows(child.items!, `${name}[].`, out);
    const mapOf = child.additionalProperties;
    if (child.type === 'object' && mapOf && typeof mapOf === 'object' && mapOf.properties) rows(mapOf, `${name}.<name>.`, out);
  }
}

function section(title: string, intro: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = [`## ${title}`, '', intro, '', '| key | type | default | constraints |', '| --- | --- | --- | --- |'];
  rows(json, '', out);
  return out.join('\n');
}

export function configReference(): string {
  return [
    '# Configuration reference',
    '',
    'Generated from the zod schemas by `npm run docs:config`; a test fails when this file is stale.',
    'Unknown keys are refused. Durations are milliseconds. The comments in the schema files explain each knob.',
    '',
    section(
      'Gateway (`config/*.yaml`)',
      'Schema: `gateway/src/config/schema.ts`. Reloaded on SIGHUP and on file change; an invalid file is refused and the running config stays.',
      ConfigSchema,
    ),
    '',
    section(
      'Node runtime (`--config FILE` and flags)',
      'Schema: `node-runtime/src/config/schema.ts`. Flags (`--port`, `--slots`, `--queue`, …) override the file; the admin token comes from `VOXGATE_ADMIN_TOKEN`.',
      RuntimeConfigSchema,
    ),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = path.resolve(import.meta.dirname, '../docs/configuration.md');
  writeFileSync(target, configReference());
  console.log(`wrote ${target}`);
}
