/**
 * Shared by the deployment tests: reading the files under deploy/, rendering the kustomizations
 * with kubectl, checking command lines against the CLIs' own specs, and naming the metrics a
 * PromQL expression uses.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { CommandLineError, parseCommandLine, type CommandSpec } from '../../cli/command-line.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { hasCommand, systemPackage } from '../support/system-package.ts';

export const DEPLOY = path.join(REPO_ROOT, 'deploy');

export function readText(rel: string): string {
  return readFileSync(path.join(REPO_ROOT, rel), 'utf8');
}

export function readYaml<T = Record<string, unknown>>(rel: string): T {
  return parseYaml(readText(rel), { merge: true }) as T;
}

/** A Kubernetes object as rendered: only what the tests read is typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export const kubectl = systemPackage(
  'kubectl',
  () => hasCommand('kubectl', ['version', '--client']),
  'apt-get install kubernetes-client (kubectl renders the kustomizations)',
);

/** `kubectl kustomize DIR`: the objects a `kubectl apply -k DIR` would send. */
export function kustomize(rel: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', path.join(REPO_ROOT, rel)], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${rel} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

/** Every document of a YAML file (a manifest may hold several). */
export function readManifests(rel: string): K8sObject[] {
  return parseAllDocuments(readText(rel)).map((d) => d.toJS() as K8sObject);
}

/**
 * Parses `argv` the way the CLI will: a flag the CLI does not know fails here, not at the
 * container's first start.
 */
export function parseArgsFor<S extends CommandSpec>(spec: S, argv: string[]): Record<string, string | boolean | undefined> {
  try {
    const parsed = parseCommandLine(spec, argv);
    if (parsed === 'help') throw new Error('command line asks for --help');
    return parsed.values as Record<string, string | boolean | undefined>;
  } catch (err) {
    if (err instanceof CommandLineError) throw new Error(`${spec.name} refuses ${JSON.stringify(argv)}: ${err.message}`);
    throw err;
  }
}

/** Metric names a PromQL expression reads (voxgate's and the process metrics the dashboard uses). */
export function metricNamesIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b((?:voxgate|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]!))];
}

/** Metric families declared on a /metrics page (`# TYPE name kind`), with their kinds. */
export function metricFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Whether `name` is on the page: a family, or a histogram/summary family's _bucket/_count/_sum. */
export function hasMetric(families: Map<string, string>, name: string): boolean {
  if (families.has(name)) return true;
  const m = /^(.*)_(bucket|count|sum)$/.exec(name);
  return m !== null && ['histogram', 'summary'].includes(families.get(m[1]!) ?? '');
}
