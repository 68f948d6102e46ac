/**
 * A pack cannot reach outside its directory or the models directory: unsafe names and versions,
 * paths that climb, symlinks inside a pack, and engine parameters naming files the manifest
 * does not list with a checksum are all refused. Real files in temporary directories.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalChattts } from '../../../node-runtime/src/engines/chattts/local-engine.ts';
import { createFliteEngine } from '../../../node-runtime/src/engines/flite/flite-engine.ts';
import { ManifestSchema } from '../../../node-runtime/src/packs/manifest.ts';
import { publishPack, stampPack } from '../../../node-runtime/src/packs/publish.ts';
import { ModelRegistry } from '../../../node-runtime/src/packs/registry.ts';
import { verifyPack } from '../../../node-runtime/src/packs/verify.ts';

const REPO_MODELS = path.resolve(import.meta.dirname, '../../../models');
const CPU = { providers: ['cpu'], deviceId: 0, gpuMemLimitBytes: 0, arenaExtendStrategy: 'kSameAsRequested' as const, intraOpThreads: 1 };
const dirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A copy of a repository pack under a fresh temp dir, returning (root, pack dir). */
async function copyPack(name: string): Promise<{ root: string; pack: string }> {
  const root = await tempDir(`pack-${name}-`);
  const pack = path.join(root, 'src', name);
  await cp(path.join(REPO_MODELS, name), pack, { recursive: true });
  return { root, pack };
}

async function editManifest(pack: string, edit: (m: Record<string, unknown> & { parameters: Record<string, unknown> }) => void): Promise<void> {
  const file = path.join(pack, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { parameters: Record<string, unknown> };
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('pack names, versions and paths', () => {
  const base = { name: 'flite', version: '1.0.0', engine: 'flite', languages: ['en'], voices: ['slt'] };

  it.each(['1/../../../escaped', '..', '../x', '1/2', '1\\..\\x', '.hidden', '-rf', '1..2', 'a b', '1\u0000', ''])('refuses version %j', (version) => {
    expect(ManifestSchema.safeParse({ ...base, version }).success).toBe(false);
  });

  it.each(['../flite', 'a/b', 'a..b', '.flite', 'Flite'])('refuses name %j', (name) => {
    expect(ManifestSchema.safeParse({ ...base, name }).success).toBe(false);
  });

  it.each(['../x', '/etc/passwd', 'a/../../x', 'a//b', './a', 'a\\..\\b', '.env', 'a/.git/config'])('refuses file path %j', (p) => {
    const files = [{ path: p, sha256: '0'.repeat(64), bytes: 1 }];
    expect(ManifestSchema.safeParse({ ...base, files }).success).toBe(false);
  });

  it('accepts ordinary versions and nested paths, and refuses a path listed twice', () => {
    const file = { path: 'graphs/gpt.int8.onnx', sha256: '0'.repeat(64), bytes: 1 };
    for (const version of ['1.0.0', '2.0.0-rc.1', '0.1.0_build7']) expect(ManifestSchema.safeParse({ ...base, version, files: [file] }).success).toBe(true);
    expect(ManifestSchema.safeParse({ ...base, files: [file, file] }).success).toBe(false);
  });
});

describe('publishing stays inside the models directory', () => {
  it('refuses a version that climbs out of .packs and writes nothing outside it', async () => {
    const { root, pack } = await copyPack('flite');
    const modelsDir = path.join(root, 'models');
    await mkdir(modelsDir);
    await editManifest(pack, (m) => {
      m.version = '1/../../../escaped';
    });
    await expect(publishPack(pack, modelsDir)).rejects.toMatchObject({ code: 'manifest_invalid' });
    expect((await readdir(root)).sort()).toEqual(['models', 'src']);
    expect(await readdir(modelsDir)).toEqual([]);
    // stamp refuses the same version when asked to write it.
    await editManifest(pack, (m) => {
      m.version = '1.0.0';
    });
    await expect(stampPack(pack, { version: '../escaped' })).rejects.toThrow();
  });

  it('refuses a symlink inside a pack: verify, stamp and publish', async () => {
    const { root, pack } = await copyPack('flite');
    const outside = path.join(root, 'outside.json');
    await writeFile(outside, '{"voices":{}}');
    await symlink(outside, path.join(pack, 'extra.json'));
    await expect(verifyPack(pack)).rejects.toMatchObject({ code: 'symlink_refused' });
    await expect(stampPack(pack)).rejects.toMatchObject({ code: 'symlink_refused' });
    const modelsDir = path.join(root, 'models');
    await expect(publishPack(pack, modelsDir)).rejects.toMatchObject({ code: 'symlink_refused' });
    expect(await readdir(path.join(modelsDir, '.packs')).catch(() => [])).toEqual([]);
  });

  it('refuses a listed file that is a symlink (its checksum would follow a file outside the pack)', async () => {
    const { root, pack } = await copyPack('flite');
    const outside = path.join(root, 'voices.json');
    await cp(path.join(pack, 'voices.json'), outside);
    await rm(path.join(pack, 'voices.json'));
    await symlink(outside, path.join(pack, 'voices.json'));
    await expect(verifyPack(pack)).rejects.toMatchObject({ code: 'symlink_refused' });
  });

  it('refuses a symlinked manifest and a symlinked subdirectory', async () => {
    const { root, pack } = await copyPack('flite');
    await mkdir(path.join(root, 'elsewhere'));
    await symlink(path.join(root, 'elsewhere'), path.join(pack, 'sub'));
    await expect(verifyPack(pack)).rejects.toMatchObject({ code: 'symlink_refused' });
    await rm(path.join(pack, 'sub'));
    await cp(path.join(pack, 'manifest.json'), path.join(root, 'manifest.json'));
    await rm(path.join(pack, 'manifest.json'));
    await symlink(path.join(root, 'manifest.json'), path.join(pack, 'manifest.json'));
    await expect(verifyPack(pack)).rejects.toMatchObject({ code: 'symlink_refused' });
  });

  it('still publishes a clean pack, the live link pointing inside .packs', async () => {
    const { root, pack } = await copyPack('flite');
    const modelsDir = path.join(root, 'models');
    const result = await publishPack(pack, modelsDir);
    expect(path.dirname(result.target)).toBe(path.join(modelsDir, '.packs'));
    const served = await verifyPack(path.join(modelsDir, 'flite'));
    expect(served.dir).toBe(result.target);
  });
});

describe('engines open only files the manifest lists with a checksum', () => {
  it('pack.file refuses unlisted names and paths that climb', async () => {
    const { root, pack } = await copyPack('flite');
    await writeFile(path.join(root, 'secret.json'), '{}');
    await writeFile(path.join(pack, 'unlisted.json'), '{}');
    const loaded = await verifyPack(pack);
    expect(loaded.file('voices.json')).toBe(path.join(loaded.dir, 'voices.json'));
    expect(() => loaded.file('unlisted.json')).toThrow(expect.objectContaining({ code: 'file_unlisted' }));
    expect(() => loaded.file('../secret.json')).toThrow(expect.objectContaining({ code: 'file_unlisted' }));
  });

  it('flite refuses a pack whose voices.json is not listed', async () => {
    const { pack } = await copyPack('flite');
    await editManifest(pack, (m) => {
      m.files = [];
    });
    const engine = createFliteEngine({ pack: await verifyPack(pack), execution: CPU, concurrency: 1 });
    await expect(engine.load()).rejects.toMatchObject({ code: 'file_unlisted' });
    await engine.dispose();
  });

  it.each([
    ['speakers', '../speakers.json'],
    ['tokenizer', 'tokenizer.copy.json'],
    ['graphs.decoder', '../../decoder.onnx'],
  ])('chattts refuses parameters.%s = %j (unlisted or outside the pack)', async (key, value) => {
    const { root, pack } = await copyPack('chattts-tiny');
    await cp(path.join(pack, 'speakers.json'), path.join(root, 'src', 'speakers.json'));
    await cp(path.join(pack, 'tokenizer.json'), path.join(pack, 'tokenizer.copy.json'));
    await editManifest(pack, (m) => {
      const [head, tail] = key.split('.') as [string, string | undefined];
      if (tail) (m.parameters[head] as Record<string, unknown>)[tail] = value;
      else m.parameters[head] = value;
    });
    const engine = createLocalChattts({ pack: await verifyPack(pack), execution: CPU });
    await expect(engine.load()).rejects.toMatchObject({ code: 'file_unlisted' });
    await engine.dispose();
  });

  it('the registry reports the refusal with its own code, across the ChatTTS worker', async () => {
    const { root, pack } = await copyPack('chattts-tiny');
    await cp(path.join(pack, 'speakers.json'), path.join(root, 'speakers.json'));
    await editManifest(pack, (m) => {
      m.parameters.speakers = '../../speakers.json';
    });
    const registry = new ModelRegistry({ modelsDir: path.join(root, 'src'), only: [], execution: CPU, concurrency: 1, logger: pino({ level: 'silent' }) });
    const report = await registry.reload();
    await registry.close();
    expect(report.loaded).toEqual([]);
    expect(report.refused).toEqual([expect.objectContaining({ code: 'file_unlisted' })]);
  });
});
