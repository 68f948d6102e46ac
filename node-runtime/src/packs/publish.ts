/**
 * The publish protocol: a runtime must never see a half-copied pack.
 *
 * 1. Copy the source into `MODELS/.packs/<name>@<version>-<random>/` — hidden, so loaders skip it.
 * 2. Verify the copy (sizes and sha256 against its manifest).
 * 3. Point `MODELS/<name>` at it by creating a temporary symlink and `rename(2)`-ing it over the
 *    old one: rename is atomic on POSIX, so a reader sees the old pack or the new one, never a mix.
 * 4. Tell the runtime (`POST /admin/models/reload` or SIGHUP); it verifies again, warms, swaps.
 *
 * A committed pack that is a plain directory is moved aside into `.packs/` first (not atomic,
 * once, documented in the README).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ManifestSchema, type PackFile } from './manifest.ts';
import { assertPlainTree, resolveInside } from './pack-paths.ts';
import { readManifest, sha256File, verifyPack } from './verify.ts';

export async function publishPack(sourceDir: string, modelsDir: string): Promise<{ name: string; version: string; target: string }> {
  const { manifest } = await verifyPack(sourceDir);
  const store = path.resolve(modelsDir, '.packs');
  await mkdir(store, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  // The manifest schema already keeps name and version to one safe path segment; this is the
  // belt to that: the staging directory is a direct child of the store, or nothing is written.
  const target = resolveInside(store, `${manifest.name}@${manifest.version}-${suffix}`);
  if (path.dirname(target) !== store) throw new Error(`${manifest.name}@${manifest.version}: staging directory would not be a direct child of ${store}`);
  // verbatimSymlinks: a link that appeared after the source was verified is copied as a link,
  // and the second verification below refuses it, instead of silently copying what it points at.
  await cp(sourceDir, target, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
  try {
    const copied = await verifyPack(target);
    if (copied.manifest.name !== manifest.name || copied.manifest.version !== manifest.version) {
      throw new Error(`${sourceDir}: manifest changed while it was being published`);
    }
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw error;
  }

  const live = resolveInside(path.resolve(modelsDir), manifest.name);
  const existing = await lstat(live).catch(() => undefined);
  if (existing && !existing.isSymbolicLink()) await rename(live, path.join(store, `${manifest.name}@retired-${suffix}`));
  const tempLink = path.join(modelsDir, `.${manifest.name}.link-${suffix}`);
  await symlink(path.relative(modelsDir, target), tempLink);
  await rename(tempLink, live);
  return { name: manifest.name, version: manifest.version, target };
}

/** Rewrites a pack's manifest `files` from what the directory holds (every file but the manifest). */
export async function stampPack(dir: string, changes: { version?: string } = {}): Promise<void> {
  const manifest = await readManifest(dir).catch(() => undefined);
  if (!manifest) throw new Error(`${dir}: needs a manifest.json with at least name, version, engine, languages, voices`);
  const files: PackFile[] = [];
  // A symlink or special file is refused, not skipped: a stamped pack must verify.
  for (const rel of await assertPlainTree(dir)) {
    if (rel === 'manifest.json') continue;
    const full = path.join(dir, rel);
    files.push({ path: rel, sha256: await sha256File(full), bytes: (await stat(full)).size });
  }
  const next = ManifestSchema.parse({ ...manifest, ...changes, files });
  await writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(next, null, 2)}\n`);
}

/** Removes retired pack versions no symlink points at any more. */
export async function pruneRetired(modelsDir: string, keep: Set<string>): Promise<void> {
  const store = path.join(modelsDir, '.packs');
  for (const entry of await readdir(store).catch(() => [])) {
    if (!keep.has(entry)) await rm(path.join(store, entry), { recursive: true, force: true });
  }
}
