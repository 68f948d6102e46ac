/**
 * `npm run build`: compiles the gateway, the node runtime and the cluster supervisor to plain
 * JavaScript under dist/ (same layout), with the files tsc does not emit (worker entries, the
 * playground page) copied beside them. Production runs `node dist/gateway/src/main.js`: tsx is a
 * development loader, and it costs the gateway ~34 MB of RSS (its hooks thread and transform
 * caches) for nothing once the code is compiled.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
const SOURCES = ['gateway/src', 'node-runtime/src', 'cluster/src'];
const ASSETS = /\.(mjs|html)$/;

function copyAssets(dir: string): number {
  let copied = 0;
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copied += copyAssets(rel);
    else if (ASSETS.test(entry.name)) {
      cpSync(path.join(ROOT, rel), path.join(DIST, rel));
      copied++;
    }
  }
  return copied;
}

rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
const copied = SOURCES.reduce((n, dir) => n + copyAssets(dir), 0);
console.log(`built dist/ (${SOURCES.join(', ')}; ${copied} assets copied)`);
