/**
 * Nothing in the gateway imports upward. Each top-level folder of gateway/src is a layer; a file
 * may import from its own layer or any layer listed before it, never from one listed after.
 * The order is written here and nowhere else (docs/request-path.md points to it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../gateway/src');

/** Lowest first. `(root)` is gateway.ts and main.ts, which wire everything. */
export const LAYERS = [
  'core', //          primitives with no gateway knowledge: try signals, random ids
  'storage', //       atomic file writes for on-disk state
  'text', //          script detection (language routing): pure functions of text
  'errors', //        the error catalogue, its outcomes, wire answers
  'config', //        the config schema (canary keys included) and its loader
  'lifecycle', //     clock, shutdown, GC tuning
  'observability', // logger, metrics
  'audio', //         resampling, encoders
  'upstream', //      endpoints, pools, one call to a node, the Service shape
  'cache', //         the content-addressed audio cache and its keys (pack versions from upstream)
  'layers', //        retry → attempt timeout → balance → breaker, composed by createStack
  'stream', //        streamed synthesis segments
  'request-path', //  admit → plan → dispatch → shadow → respond/record
  'jobs', //          work that can wait: async jobs, signed callbacks, pre-synthesis
  'shared-state', //  Redis shared by replicas: tenant limits, jobs
  'canary', //        the shadow mirror and the judge behind it
  'playground', //    the browser page
  'http', //          the edge: the route table, the Node listener and the Hono app built from it
  '(root)',
] as const;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

function layerOf(file: string): string | undefined {
  const rel = relative(ROOT, file);
  if (rel.startsWith('..')) return undefined;
  return rel.includes(sep) ? rel.split(sep)[0] : '(root)';
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1] ?? m[2]!));
}

describe('gateway import direction', () => {
  const files = sources(ROOT);

  it('finds the gateway sources and their imports (the parser is not blind)', () => {
    expect(files.length).toBeGreaterThan(50);
    const gateway = imports(join(ROOT, 'gateway.ts'));
    expect(gateway.some((p) => p.endsWith(join('request-path', 'index.ts')))).toBe(true);
  });

  it('every top-level folder has a place in the layer order', () => {
    const unplaced = [...new Set(files.map(layerOf))].filter((l) => !LAYERS.includes(l as (typeof LAYERS)[number]));
    expect(unplaced, 'add new folders to LAYERS in test/architecture/import-direction.test.ts').toEqual([]);
  });

  it('no file imports from a layer above its own', () => {
    const rank = (layer: string | undefined) => LAYERS.indexOf(layer as (typeof LAYERS)[number]);
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const target of imports(file)) {
        const to = layerOf(target);
        if (to !== undefined && rank(to) > rank(from)) upward.push(`${relative(ROOT, file)} → ${relative(ROOT, target)} (${from} < ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('catches an upward import (the check can fail)', () => {
    const rank = (layer: string) => LAYERS.indexOf(layer as (typeof LAYERS)[number]);
    expect(rank('layers')).toBeGreaterThan(rank('upstream'));
    expect(rank(layerOf(join(ROOT, 'core', 'x.ts'))!)).toBeLessThan(rank(layerOf(join(ROOT, 'layers', 'x.ts'))!));
    const fake = [...`import type { Service } from '../layers/service.ts';\nimport { x } from './y.ts';`.matchAll(IMPORT)].map((m) => m[1]);
    expect(fake).toEqual(['../layers/service.ts', './y.ts']);
  });
});
