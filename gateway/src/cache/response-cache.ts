/**
 * The request path's use of the audio cache: which requests may use it, their keys, a hit
 * answered without a node, and a miss's encoded answer kept once it went out whole.
 *
 * - Cacheable: the tenant's plan (or the tenant) is enabled in `cache`, no style instructions.
 *   A text of one segment of one model, in raw audio (not SSE), is kept whole, encoded; a long
 *   text's segments are kept one by one as the nodes' PCM (`segments()`), so a long text asked
 *   again is spoken from the cache segment by segment, in any format. Jobs keep their own
 *   audio. A request without a seed is pinned to `cache.default_seed` so that it can hit: the same text always sounds the same for such tenants (documented).
 * - Key: model, the pack version the nodes report (health checks, /v1/load), voice, speed, seed,
 *   normalised text, format. A replaced pack version makes every old key unreachable; the
 *   entries age out by LRU. The last version seen per pack is remembered, so the keys still
 *   resolve while every node is down.
 * - A hit also tries the plan's other model, so that when the planned model has no node (all
 *   down) a rendering by the other one still answers.
 * Owner: the gateway; `close()` it.
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Config, ModelConfig } from '../config/schema.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import { AudioCache, cacheKey } from './audio-cache.ts';

export interface CacheRequest {
  tenant: string;
  planName: string;
  model: ModelConfig;
  /** The plan's other model (tried on lookup only). */
  other: ModelConfig | undefined;
  voice: string;
  speed: number | undefined;
  seed: number | undefined;
  text: string;
  format: string;
}

export interface CacheLookup {
  /** The seed the request must be synthesised with for its answer to be cacheable. */
  seed: number;
  key: string | undefined;
  hit: { body: Buffer; meta: Record<string, string> } | undefined;
}

/** The `format` part of a segment entry's key: PCM at the node's rate, before encoding. */
const SEGMENT_FORMAT = 'pcm@segment';

/**
 * The segment entries of one response, for the segment run (stream/): a segment found there is
 * delivered without a node; one a node delivered whole, from its planned model, is offered back.
 * PCM at the node's rate, before resampling and encoding, so one entry serves every format.
 */
export interface SegmentEntries {
  get(model: ModelConfig, voice: string, text: string): { pcm: Buffer; sampleRate: number } | undefined;
  put(model: ModelConfig, voice: string, text: string, pcm: Buffer, sampleRate: number): void;
}

export class ResponseCache {
  readonly #cache: AudioCache;
  readonly #versions = new Map<string, string>();

  constructor(
    private readonly config: () => Config,
    private readonly endpoints: EndpointSet,
  ) {
    const cfg = config().cache!;
    this.#cache = new AudioCache(cfg.dir, cfg.max_bytes);
  }

  get store(): AudioCache {
    return this.#cache;
  }

  enabledFor(tenant: string, planName: string): boolean {
    const cfg = this.config().cache;
    return cfg !== undefined && (cfg.plans.includes(planName) || cfg.tenants.includes(tenant));
  }

  /**
   * The version the nodes report for `pack` (any node), else the last one seen — but not while
   * an available node has yet to report at all: it may be the one that replaced the pack (a new
   * node set), and the remembered version would serve its predecessor's audio.
   */
  packVersion(pack: string): string | undefined {
    // eslint-disable-next-line no-restricted-properties -- not yet on the gateway's Clock: the cache has none injected.
    const now = Date.now();
    let unreported = false;
    for (const e of this.endpoints.all()) {
      const v = e.load?.packVersions?.[pack];
      if (v !== undefined) {
        this.#versions.set(pack, v);
        return v;
      }
      if (e.load === undefined && e.isAvailable(now)) unreported = true;
    }
    return unreported ? undefined : this.#versions.get(pack);
  }

  keyFor(r: Pick<CacheRequest, 'speed' | 'text' | 'format'>, model: ModelConfig, voice: string, seed: number): string | undefined {
    const pack = model.pack ?? model.id;
    const version = this.packVersion(pack);
    if (version === undefined) return undefined;
    return cacheKey({ model: model.id, packVersion: `${pack}@${version}`, voice, speed: r.speed ?? 1, seed, text: r.text, format: r.format });
  }

  /** The seed a cacheable request is synthesised with: its own, else the configured default. */
  seedFor(seed: number | undefined): number {
    return seed ?? this.config().cache!.default_seed;
  }

  /**
   * The segments of one long answer (speed and seed fixed for the response): each kept as the
   * node's PCM and its rate, under the same key parts as a whole answer with format `pcm@<segment>`,
   * so one entry serves every response format and never collides with a whole answer's.
   */
  segments(speed: number | undefined, seed: number): SegmentEntries {
    const key = (model: ModelConfig, voice: string, text: string) => this.keyFor({ speed, text, format: SEGMENT_FORMAT }, model, voice, seed);
    const max = this.config().cache!.max_entry_bytes;
    return {
      get: (model, voice, text) => {
        const k = key(model, voice, text);
        const found = k !== undefined ? this.#cache.get(k) : undefined;
        const rate = Number(found?.meta['x-sample-rate']);
        return found && rate > 0 ? { pcm: found.body, sampleRate: rate } : undefined;
      },
      put: (model, voice, text, pcm, sampleRate) => {
        const k = key(model, voice, text);
        if (k !== undefined && pcm.length <= max) this.#cache.put(k, pcm, { 'x-sample-rate': String(sampleRate), 'x-model': model.id });
      },
    };
  }

  lookup(r: CacheRequest): CacheLookup {
    const seed = this.seedFor(r.seed);
    const key = this.keyFor(r, r.model, r.voice, seed);
    const found = key !== undefined ? this.#cache.get(key) : undefined;
    if (found) return { seed, key, hit: found };
    if (r.other) {
      const voice = r.other.voices.includes(r.voice) ? r.voice : (r.other.default_voice ?? r.other.voices[0]!);
      const otherKey = this.keyFor(r, r.other, voice, seed);
      const other = otherKey !== undefined ? this.#cache.get(otherKey) : undefined;
      // Only when the planned model cannot be served now: otherwise the planned model speaks.
      // eslint-disable-next-line no-restricted-properties -- not yet on the gateway's Clock: the cache has none injected.
      if (other && !this.endpoints.all().some((e) => e.serves(r.model.id) && e.isAvailable(Date.now()))) return { seed, key, hit: other };
    }
    return { seed, key, hit: undefined };
  }

  /**
   * Tees an answer's encoded bytes; `keep(ok)` stores them when the answer went out whole
   * (and not beyond `max_entry_bytes`).
   */
  tee(body: Readable, key: string, meta: Record<string, string>): { body: Readable; keep: (ok: boolean) => void } {
    const max = this.config().cache!.max_entry_bytes;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let over = false;
    const pass = new PassThrough();
    body.on('data', (chunk: Buffer) => {
      if (!over) {
        bytes += chunk.length;
        if (bytes > max) {
          over = true;
          chunks.length = 0;
        } else chunks.push(chunk);
      }
    });
    body.pipe(pass);
    body.on('error', (err) => pass.destroy(err));
    pass.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    return {
      body: pass,
      keep: (ok) => {
        if (ok && !over && bytes > 0) this.#cache.put(key, Buffer.concat(chunks), meta);
      },
    };
  }

  close(): void {
    this.#cache.close();
  }
}
