/**
 * A model pack is a directory with `manifest.json` and the files it lists. The manifest is the
 * only thing the runtime trusts about a pack, so it is validated strictly.
 * @module
 */
import { z } from 'zod';
import type { EngineDescription } from '../engines/engine.ts';
import { PackRelativePathSchema, PathSegmentSchema } from './pack-paths.ts';

export const PackFileSchema = z
  .object({
    /** Relative to the pack directory; never absolute, never climbing out of it, never hidden. */
    path: PackRelativePathSchema,
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
    bytes: z.number().int().nonnegative(),
  })
  .strict();

export const ManifestSchema = z
  .object({
    /** Becomes `MODELS/<name>` and part of a directory name under `MODELS/.packs/`. */
    name: PathSegmentSchema.pipe(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'name: lowercase letters, digits, . _ -')),
    /** Part of a directory name under `MODELS/.packs/`: `1/../../escaped` would publish outside it. */
    version: PathSegmentSchema,
    /** Engine kind from the engine registry (`flite`, `chattts`, `sim`). */
    engine: z.string().min(1),
    /** BCP-47 primary subtags the model speaks, e.g. ['en'] or ['zh', 'en']. */
    languages: z.array(z.string().min(2)).min(1),
    voices: z.array(z.string().min(1)).min(1),
    sample_rate: z.number().int().positive().optional(),
    /**
     * Same pack version, voice, speed, seed and execution provider → identical samples, so a
     * stream may be resumed at a sample offset on another node. Absent: what the engine says
     * of itself; a pack sets `false` when, say, its GPU kernels are not bit-reproducible.
     */
    deterministic: z.boolean().optional(),
    /** Engine-specific knobs (sampling defaults, graph names…), validated by the engine. */
    parameters: z.record(z.string(), z.unknown()).default({}),
    files: z
      .array(PackFileSchema)
      .default([])
      .refine((files) => new Set(files.map((f) => f.path)).size === files.length, 'files: each path listed once'),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type PackFile = z.infer<typeof PackFileSchema>;

/** A pack whose every file was verified against its manifest. */
export interface LoadedPack {
  dir: string;
  manifest: Manifest;
  /** Absolute path of a listed file. */
  file(relativePath: string): string;
}

/** Whether a loaded pack's audio is reproducible sample for sample: the manifest's word first. */
export function isDeterministic(manifest: Manifest, engine: Pick<EngineDescription, 'deterministic'>): boolean {
  return manifest.deterministic ?? engine.deterministic;
}
