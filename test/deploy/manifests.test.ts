/**
 * The Kubernetes manifests: the kustomize base and the GPU overlay rendered by kubectl, every
 * object validated against the Kubernetes OpenAPI schemas (kubernetes-models), then what the
 * seed's pitfalls and the code require: probes on the paths the processes serve, memory
 * requests equal to limits, one GPU per runtime pod, a preStop drain that fits the grace period,
 * config the services' own schemas accept, and secrets kept out of the ConfigMaps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { afterAll, describe, expect, it } from 'vitest';
import { GATEWAY_COMMAND } from '../../gateway/src/config/command.ts';
import { loadConfigFile } from '../../gateway/src/config/load.ts';
import { RUNTIME_COMMAND, loadRuntimeConfig } from '../../node-runtime/src/config/load.ts';
import { kubectl, kustomize, parseArgsFor, readManifests, readText, type K8sObject } from './deploy-files.ts';

/** Constructors whose validate() checks an object against its OpenAPI schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function validate(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}: add it to MODELS`);
  new Model(o as never).validate();
}

interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: IPodSpec };
  };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'voxgate-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const find = <T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name.startsWith(name));
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o as T;
};
const container = (w: Workload, name: string): IContainer => w.spec.template.spec.containers.find((c) => c.name === name)!;
const configData = (objects: K8sObject[], volumeOwner: Workload, volume: string): Record<string, string> => {
  const cmName = w(volumeOwner).volumes!.find((v) => v.name === volume)!.configMap!.name;
  return find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', cmName!).data;
};
const w = (x: Workload): IPodSpec => x.spec.template.spec;
const portOf = (c: IContainer, name: string): number => c.ports!.find((p) => p.name === name)!.containerPort;

/** Runs the gateway pod's init container command against local copies of its volumes. */
function assembleGatewayConfig(gateway: Workload, objects: K8sObject[], keysYaml: string): string {
  const init = w(gateway).initContainers!.find((c) => c.name === 'assemble-config')!;
  const dirs = new Map<string, string>();
  for (const m of init.volumeMounts!) {
    const dir = path.join(tmp, `${gateway.metadata.name}-${m.name}`);
    mkdirSync(dir, { recursive: true });
    dirs.set(m.mountPath, dir);
    const vol = w(gateway).volumes!.find((v) => v.name === m.name)!;
    if (vol.configMap) for (const [file, text] of Object.entries(configData(objects, gateway, m.name))) writeFileSync(path.join(dir, file), text);
    if (vol.secret) writeFileSync(path.join(dir, 'keys.yaml'), keysYaml);
  }
  let script = init.command!.at(-1)!;
  for (const [mount, dir] of dirs) script = script.replaceAll(`${mount}/`, `${dir}/`);
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const args = parseArgsFor(GATEWAY_COMMAND, container(gateway, 'gateway').args!);
  const mount = [...dirs.keys()].find((m) => String(args.config).startsWith(`${m}/`))!;
  return path.join(dirs.get(mount)!, path.relative(mount, String(args.config)));
}

/** The runtime config a node pod would load: its args (env expanded), its ConfigMap file. */
function runtimeConfigOf(node: Workload, objects: K8sObject[]) {
  const c = container(node, 'node-runtime');
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef ? 'voxgate-node-0' : undefined)]));
  const args = c.args!.map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? ''));
  const values = parseArgsFor(RUNTIME_COMMAND, args);
  const mount = c.volumeMounts!.find((m) => String(values.config).startsWith(`${m.mountPath}/`))!;
  const file = path.join(tmp, `${node.metadata.name}-${path.basename(String(values.config))}`);
  writeFileSync(file, configData(objects, node, mount.name)[path.basename(String(values.config))]!);
  return loadRuntimeConfig(
    args.map((a) => (a === values.config ? file : a)),
    {},
  );
}

describe.skipIf(!kubectl)('kustomize base (CPU nodes)', () => {
  const objects = kubectl ? kustomize('deploy/k8s/base') : [];
  const gateway = () => find<Workload>(objects, 'Deployment', 'voxgate-gateway');
  const node = () => find<Workload>(objects, 'StatefulSet', 'voxgate-node');

  it('renders objects that are valid against the Kubernetes schemas, all in the voxgate namespace', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Namespace',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Service',
      'Service',
      'StatefulSet',
    ]);
    for (const o of objects) validate(o);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('voxgate');
    const broken = structuredClone(gateway()) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => validate(broken as unknown as K8sObject)).toThrow(/replicas/);
  });

  it('probes /healthz for liveness and /readyz for readiness on the port each process listens on', () => {
    for (const [wl, name, flags] of [
      [gateway(), 'gateway', GATEWAY_COMMAND],
      [node(), 'node-runtime', RUNTIME_COMMAND],
    ] as const) {
      const c = container(wl, name);
      const port = Number(
        parseArgsFor(
          flags,
          c.args!.map((a) => a.replace(/\$\(\w+\)/g, 'x')),
        ).port,
      );
      expect(portOf(c, 'http')).toBe(port);
      expect(c.livenessProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe!.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    }
  });

  it('sets memory requests equal to limits on the node runtime (and the gateway)', () => {
    for (const c of [container(node(), 'node-runtime'), container(gateway(), 'gateway')]) {
      expect(c.resources!.requests!['memory']).toBeDefined();
      expect(c.resources!.requests!['memory']).toBe(c.resources!.limits!['memory']);
    }
    const n = container(node(), 'node-runtime');
    expect(n.resources!.requests!['cpu']).toBe(n.resources!.limits!['cpu']);
  });

  it('drains in preStop within terminationGracePeriodSeconds', () => {
    const config = runtimeConfigOf(node(), objects);
    const n = container(node(), 'node-runtime');
    expect(n.lifecycle!.preStop!.exec!.command!.join(' ')).toMatch(/kill -TERM 1.*while kill -0 1/);
    // Drain, then unload the packs: at least 10 s of margin over the drain bound.
    expect(w(node()).terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(config.drain_timeout_ms / 1000 + 10);
    const g = container(gateway(), 'gateway');
    const sleep = Number(g.lifecycle!.preStop!.exec!.command!.at(-1));
    // gateway/src/main.ts forces exit 15 s after SIGTERM.
    expect(w(gateway()).terminationGracePeriodSeconds!).toBeGreaterThan(sleep + 15);
  });

  it('runs both as non-root with a read-only root filesystem', () => {
    // The official node images' `node` user, which the gateway and CPU runtime images run as.
    for (const file of ['deploy/docker/gateway.Dockerfile', 'deploy/docker/node-runtime.Dockerfile']) expect(readText(file)).toMatch(/^USER node$/m);
    for (const wl of [gateway(), node()]) {
      expect(w(wl).securityContext!.runAsUser).toBe(1000);
      expect(w(wl).securityContext!.runAsNonRoot).toBe(true);
      expect(w(wl).securityContext!.runAsUser).not.toBe(0);
      for (const c of [...w(wl).containers, ...(w(wl).initContainers ?? [])]) expect(c.securityContext!.readOnlyRootFilesystem, c.name).toBe(true);
    }
  });

  it('builds the gateway config from the ConfigMap plus the keys Secret, and the gateway accepts it', () => {
    const keys = readText('deploy/k8s/base/keys.example.yaml');
    const file = assembleGatewayConfig(gateway(), objects, keys);
    const config = loadConfigFile(file);
    expect(config.keys).toHaveLength(1);
    expect(config.keys[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(config.canary_judge.store.startsWith('/var/lib/voxgate/')).toBe(true);
    expect(container(gateway(), 'gateway').volumeMounts!.map((m) => m.mountPath)).toContain('/var/lib/voxgate');
    // The nodes it lists are the StatefulSet's pods, by the headless Service's names and port.
    const svc = find<K8sObject & { spec: { clusterIP: string; publishNotReadyAddresses: boolean; ports: { port: number }[] } }>(
      objects,
      'Service',
      'voxgate-node',
    );
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    const urls = config.regions.flatMap((r) => r.nodes.map((n) => new URL(n.url)));
    expect(urls.map((u) => u.hostname).sort()).toEqual(Array.from({ length: node().spec.replicas! }, (_, i) => `voxgate-node-${i}.${node().spec.serviceName}`));
    for (const u of urls) expect(Number(u.port)).toBe(svc.spec.ports[0]!.port);
  });

  it('keeps key digests and the admin token in Secrets, never in the ConfigMaps or the repo', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
      const text = Object.values((cm as unknown as { data: Record<string, string> }).data).join('\n');
      expect(text).not.toMatch(/^keys:/m);
      expect(text).not.toMatch(/admin_token|sha256:/);
    }
    expect(w(gateway()).volumes!.find((v) => v.name === 'keys')!.secret!.secretName).toBe('voxgate-gateway-keys');
    const token = container(node(), 'node-runtime').env!.find((e) => e.name === 'VOXGATE_ADMIN_TOKEN')!;
    expect(token.valueFrom!.secretKeyRef).toMatchObject({ name: 'voxgate-admin-token', key: 'token', optional: true });
  });

  it('points the HPA, PDBs and Services at the right pods and ports', () => {
    const hpa = find<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(
      objects,
      'HorizontalPodAutoscaler',
      'voxgate-gateway',
    );
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: gateway().metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(container(gateway(), 'gateway').resources!.requests!['cpu'], 'the HPA scales on CPU requests').toBeDefined();
    for (const [kind, name, wl] of [
      ['PodDisruptionBudget', 'voxgate-gateway', gateway()],
      ['PodDisruptionBudget', 'voxgate-node', node()],
      ['Service', 'voxgate-gateway', gateway()],
      ['Service', 'voxgate-node', node()],
    ] as const) {
      const o = find<K8sObject & { spec: { selector: Record<string, unknown> } }>(objects, kind, name);
      const selector = (o.spec.selector['matchLabels'] ?? o.spec.selector) as Record<string, string>;
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(selector)) expect(wl.spec.template.metadata.labels[k], `${kind} ${name} selects ${k}`).toBe(v);
    }
  });

  it('serves the packs the node image ships, from the config the runtime accepts', () => {
    const config = runtimeConfigOf(node(), objects);
    expect(config.host).toBe('0.0.0.0');
    expect(config.node_id).toBe('voxgate-node-0');
    expect(config.models_dir).toBe('/app/models');
    const docker = readFileSync(path.join(import.meta.dirname, '../../deploy/docker/node-runtime.Dockerfile'), 'utf8');
    for (const pack of config.models) expect(docker).toContain(`COPY models/${pack} ./models/${pack}`);
  });
});

describe.skipIf(!kubectl)('kustomize GPU overlay', () => {
  const objects = kubectl ? kustomize('deploy/k8s/overlays/gpu') : [];
  const node = () => find<Workload>(objects, 'StatefulSet', 'voxgate-node');

  it('renders valid objects', () => {
    for (const o of objects) validate(o);
    expect(objects.filter((o) => o.kind === 'PersistentVolumeClaim')).toHaveLength(1);
  });

  it('gives each runtime pod one GPU, memory requests equal to limits, and the CUDA image', () => {
    const c = container(node(), 'node-runtime');
    expect(c.resources!.limits!['nvidia.com/gpu']).toBe(1);
    expect(c.resources!.requests!['nvidia.com/gpu']).toBe(1);
    expect(c.resources!.requests!['memory']).toBe(c.resources!.limits!['memory']);
    expect(c.image).toMatch(/^voxgate\/node-runtime:.*-cuda$/);
    expect(w(node()).tolerations!.some((t) => t.key === 'nvidia.com/gpu')).toBe(true);
    // The base's probes and drain survive the patch.
    expect(c.livenessProbe!.httpGet!.path).toBe('/healthz');
    expect(c.readinessProbe!.httpGet!.path).toBe('/readyz');
    expect(c.lifecycle!.preStop!.exec).toBeDefined();
  });

  it("runs as the CUDA image's own non-root user", () => {
    const user = /^USER (\d+):(\d+)$/m.exec(readText('deploy/docker/node-runtime-cuda.Dockerfile'))!;
    expect(w(node()).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: Number(user[1]), runAsGroup: Number(user[2]) });
  });

  it('runs ChatTTS on CUDA from the shared packs volume', () => {
    const config = runtimeConfigOf(node(), objects);
    expect(config.execution.providers).toEqual(['cuda', 'cpu']);
    const c = container(node(), 'node-runtime');
    const mount = c.volumeMounts!.find((m) => m.mountPath === config.models_dir)!;
    expect(mount.readOnly).toBe(true);
    const claim = w(node()).volumes!.find((v) => v.name === mount.name)!.persistentVolumeClaim!.claimName;
    const pvc = find<K8sObject & { spec: { accessModes: string[] } }>(objects, 'PersistentVolumeClaim', claim);
    expect(pvc.spec.accessModes).toEqual(['ReadOnlyMany']);
    expect(w(node()).terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(config.drain_timeout_ms / 1000 + 10);
  });
});

describe('manifest files as written', () => {
  it('every file under deploy/k8s/base listed in the kustomization is valid on its own', () => {
    const kustomization = readManifests('deploy/k8s/base/kustomization.yaml')[0] as unknown as { resources: string[] };
    for (const file of kustomization.resources) for (const o of readManifests(`deploy/k8s/base/${file}`)) validate(o);
  });
});
