/**
 * The models a runtime serves, with atomic hot swap.
 *
 * Each served model is a `ModelVersion` with a reference count. A request leases the current
 * version for its whole life; a reload verifies, loads and warms the new version off to the side,
 * then swaps the map entry in one assignment. The old version is disposed when its last lease is
 * released, so in-flight requests finish on the engine they started on.
 * @module
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Engine, ExecutionSettings } from '../engines/engine.ts';
import { engineFactory } from '../engines/registry.ts';
import { RuntimeError } from '../errors/runtime-error.ts';
import { isDeterministic, type Manifest } from './manifest.ts';
import { packErrorCodeOf } from './pack-error.ts';
import { PackError, verifyPack } from './verify.ts';

export interface ModelLease {
  readonly manifest: Manifest;
  readonly engine: Engine;
  release(): void;
}

class ModelVersion {
  #leases = 0;
  #retired = false;
  #disposed: Promise<void> | undefined;

  constructor(
    readonly manifest: Manifest,
    readonly engine: Engine,
    /** Identity of the pack contents: same fingerprint → reload is a no-op. */
    readonly fingerprint: string,
  ) {}

  lease(): ModelLease {
    this.#leases++;
    let released = false;
    return {
      manifest: this.manifest,
      engine: this.engine,
      release: () => {
        if (released) return;
        released = true;
        this.#leases--;
        if (this.#retired && this.#leases === 0) void this.dispose();
      },
    };
  }

  retire(): void {
    this.#retired = true;
    if (this.#leases === 0) void this.dispose();
  }

  dispose(): Promise<void> {
    this.#disposed ??= this.engine.dispose();
    return this.#disposed;
  }
}

export interface ReloadReport {
  loaded: { name: string; version: string }[];
  unchanged: string[];
  refused: { dir: string; code: string; message: string }[];
}

export interface ModelRegistryOptions {
  modelsDir: string;
  /** Pack names to serve; empty = all found. */
  only: string[];
  execution: ExecutionSettings;
  /** The scheduler's slot count, handed to engines that size worker pools by it. */
  concurrency: number;
  logger: Logger;
  onReload?: (result: 'loaded' | 'unchanged' | 'refused') => void;
}

export class ModelRegistry {
  readonly #versions = new Map<string, ModelVersion>();
  readonly #options: ModelRegistryOptions;
  /** Reloads are serialised: two overlapping reloads would race on the swap. */
  #reloading: Promise<ReloadReport> = Promise.resolve({ loaded: [], unchanged: [], refused: [] });

  constructor(options: ModelRegistryOptions) {
    this.#options = options;
  }

  reload(): Promise<ReloadReport> {
    this.#reloading = this.#reloading.then(() => this.#reloadNow());
    return this.#reloading;
  }

  /** Leases the named model (or the first one loaded). Throws `unknown_model` when absent. */
  lease(name?: string): ModelLease {
    const version = name === undefined ? this.#versions.values().next().value : this.#versions.get(name);
    if (!version)
      throw new RuntimeError('unknown_model', name === undefined ? 'no model is loaded' : `model ${JSON.stringify(name)} is not served by this node`);
    return version.lease();
  }

  describe(): (Pick<Manifest, 'name' | 'version' | 'engine' | 'languages' | 'voices'> & {
    execution_provider: string;
    sample_rate: number;
    deterministic: boolean;
  })[] {
    return [...this.#versions.values()].map(({ manifest, engine }) => {
      const description = engine.describe();
      return {
        name: manifest.name,
        version: manifest.version,
        engine: manifest.engine,
        languages: manifest.languages,
        voices: manifest.voices,
        execution_provider: description.executionProvider,
        sample_rate: description.sampleRate,
        deterministic: isDeterministic(manifest, description),
      };
    });
  }

  get size(): number {
    return this.#versions.size;
  }

  /** Disposes every version once in-flight leases are gone. */
  async close(): Promise<void> {
    await this.#reloading.catch(() => undefined);
    const versions = [...this.#versions.values()];
    this.#versions.clear();
    await Promise.all(versions.map((v) => v.dispose()));
  }

  async #reloadNow(): Promise<ReloadReport> {
    const { modelsDir, only, logger } = this.#options;
    const report: ReloadReport = { loaded: [], unchanged: [], refused: [] };
    const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
    // Hidden entries are staging areas and retired versions of the publish protocol.
    const dirs = entries
      .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink()))
      .filter((e) => only.length === 0 || only.includes(e.name))
      .map((e) => path.join(modelsDir, e.name))
      .sort();
    for (const dir of dirs) {
      try {
        const result = await this.#loadOne(dir);
        if (result.changed) report.loaded.push({ name: result.name, version: result.version });
        else report.unchanged.push(result.name);
        this.#options.onReload?.(result.changed ? 'loaded' : 'unchanged');
      } catch (error) {
        const code = error instanceof PackError ? error.code : 'engine_load_failed';
        const message = error instanceof Error ? error.message : String(error);
        report.refused.push({ dir, code, message });
        this.#options.onReload?.('refused');
        logger.error(
          { pack_dir: dir, error_code: code, reason: message, err: error instanceof PackError ? undefined : error },
          'model pack refused; previous version keeps serving',
        );
      }
    }
    return report;
  }

  async #loadOne(dir: string): Promise<{ name: string; version: string; changed: boolean }> {
    const pack = await verifyPack(dir);
    const { manifest } = pack;
    const fingerprint = JSON.stringify([manifest.version, manifest.files.map((f) => f.sha256), manifest.parameters]);
    const current = this.#versions.get(manifest.name);
    if (current?.fingerprint === fingerprint) return { name: manifest.name, version: manifest.version, changed: false };

    const factory = await engineFactory(manifest.engine);
    if (!factory) throw new PackError('engine_unknown', `${manifest.name}: engine kind ${JSON.stringify(manifest.engine)} is not known to this runtime`);
    const engine = factory({ pack, execution: this.#options.execution, concurrency: this.#options.concurrency });
    try {
      await engine.load();
      await engine.warm();
    } catch (cause) {
      await engine.dispose().catch(() => undefined);
      // An engine that asked for an unlisted or unsafe file is a pack refusal with its own code.
      const packCode = packErrorCodeOf(cause);
      if (packCode) throw new PackError(packCode, cause instanceof Error ? cause.message : String(cause), { cause });
      throw new PackError('engine_load_failed', `${manifest.name}@${manifest.version}: engine failed to load or warm: ${String(cause)}`, { cause });
    }
    this.#versions.set(manifest.name, new ModelVersion(manifest, engine, fingerprint));
    current?.retire();
    this.#options.logger.info(
      { model: manifest.name, version: manifest.version, previous: current?.manifest.version, engine: manifest.engine },
      'model pack loaded',
    );
    return { name: manifest.name, version: manifest.version, changed: true };
  }
}
