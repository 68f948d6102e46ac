/**
 * Reads a pack directory and proves it whole: the manifest parses, and every listed file exists
 * with the declared size and sha256. A half-written or corrupt pack fails here, before any
 * engine sees it.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ManifestSchema, type LoadedPack, type Manifest } from './manifest.ts';
import { PackError } from './pack-error.ts';
import { assertPlainTree, assertRegularFile, createFileResolver, resolveInside } from './pack-paths.ts';

export { PackError } from './pack-error.ts';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readManifest(dir: string): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(path.join(dir, 'manifest.json'), 'utf8');
  } catch (cause) {
    throw new PackError('manifest_missing', `${dir}: no readable manifest.json`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new PackError('manifest_invalid', `${dir}: manifest.json is not JSON`, { cause });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new PackError('manifest_invalid', `${dir}: manifest.json invalid: ${issues}`);
  }
  return parsed.data;
}

/**
 * Verifies every file; resolves the pack directory first so a symlink swap mid-verify cannot mix
 * versions. The pack directory itself may be a link (the live link of the publish protocol);
 * nothing inside it may be.
 */
export async function verifyPack(dir: string): Promise<LoadedPack> {
  const root = await realpath(dir).catch((cause: unknown) => {
    throw new PackError('manifest_missing', `${dir}: pack directory not found`, { cause });
  });
  // Before the manifest is read: manifest.json itself must not be a link to somewhere else.
  await assertPlainTree(root).catch((error: unknown) => {
    throw error instanceof PackError ? new PackError(error.code, `${dir}: ${error.message}`) : error;
  });
  const manifest = await readManifest(root);
  const label = `${manifest.name}@${manifest.version}`;
  for (const file of manifest.files) {
    const full = resolveInside(root, file.path);
    const size = await assertRegularFile(full, file.path).catch((error: unknown) => {
      throw error instanceof PackError ? new PackError(error.code, `${label}: ${error.message}`, { cause: error.cause }) : error;
    });
    if (size !== file.bytes) {
      throw new PackError('file_size_mismatch', `${label}: ${file.path} has ${size} bytes, manifest says ${file.bytes}`);
    }
    const actual = await sha256File(full);
    if (actual !== file.sha256) {
      throw new PackError('checksum_mismatch', `${label}: ${file.path} sha256 ${actual} != manifest ${file.sha256}`);
    }
  }
  return { dir: root, manifest, file: createFileResolver(root, manifest) };
}
