/**
 * Where a pack's files may live. A pack comes from outside (a download, a colleague's disk), so
 * nothing in it may reach beyond its own directory: every name is drawn from a safe alphabet,
 * every resolved path is checked to stay under the pack root, no symlink is followed, and an
 * engine can open only a file the manifest lists with its checksum (a file an engine opens but
 * nobody verified is a file anyone can swap).
 * @module
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Manifest } from './manifest.ts';
import { PackError } from './pack-error.ts';

/**
 * One path segment: starts with a letter, digit or `_` (so never `.`, `..` or a hidden name),
 * then letters, digits, `.`, `_`, `-`. No separators, no NUL, no spaces.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** A name or version that becomes one directory name under the models directory. */
export const PathSegmentSchema = z
  .string()
  .regex(SEGMENT, 'letters, digits, . _ - only, not starting with . or -')
  .refine((s) => !s.includes('..'), 'must not contain ..');

/** A file inside a pack, `/`-separated, every segment safe. */
export const PackRelativePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => p.split('/').every((segment) => SEGMENT.test(segment) && !segment.includes('..')),
    'path must be relative, /-separated, each part letters, digits, . _ - (no .., no leading .)',
  );

/** `root/relative`, or a `path_unsafe` refusal if the result would leave `root`. */
export function resolveInside(root: string, relative: string): string {
  const full = path.resolve(root, relative);
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new PackError('path_unsafe', `${JSON.stringify(relative)} resolves outside the pack directory`);
  }
  return full;
}

/**
 * Walks the pack directory without following links and refuses any symlink or special file in
 * it. `cp` copies a symlink as a symlink, so a link that passed verification would make the
 * published pack depend on a file outside it.
 */
export async function assertPlainTree(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) throw new PackError('symlink_refused', `${rel} is a symlink; a pack holds plain files only`);
    if (entry.isDirectory()) files.push(...(await assertPlainTree(root, rel)));
    else if (entry.isFile()) files.push(rel);
    else throw new PackError('path_unsafe', `${rel} is not a regular file or directory`);
  }
  return files.sort();
}

/** A regular file (not a link) at `full`, or a refusal naming `relative`. */
export async function assertRegularFile(full: string, relative: string): Promise<number> {
  const info = await lstat(full).catch((cause: unknown) => {
    throw new PackError('file_missing', `missing file ${relative}`, { cause });
  });
  if (info.isSymbolicLink()) throw new PackError('symlink_refused', `${relative} is a symlink; a pack holds plain files only`);
  if (!info.isFile()) throw new PackError('path_unsafe', `${relative} is not a regular file`);
  return info.size;
}

/**
 * The only way an engine gets a path into its pack: the name must be one the manifest lists
 * (and `verifyPack` checked), so an engine parameter naming `../x` or an unlisted file is refused.
 * @example
 * const file = createFileResolver(root, manifest);
 * await readFile(file('voices.json'), 'utf8');
 */
export function createFileResolver(root: string, manifest: Manifest): (relativePath: string) => string {
  const listed = new Set(manifest.files.map((f) => f.path));
  return (relativePath) => {
    if (!listed.has(relativePath)) {
      throw new PackError(
        'file_unlisted',
        `${manifest.name}@${manifest.version}: ${JSON.stringify(relativePath)} is not listed in manifest.json files with a sha256`,
      );
    }
    return resolveInside(root, relativePath);
  };
}
