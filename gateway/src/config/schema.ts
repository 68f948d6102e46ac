/**
 * The gateway's configuration: one zod schema, defaults in the schema, invariants as refinements.
 * `config/load.ts` parses a file with it once and freezes the result; each subsystem receives only
 * its own slice (`config.retry`, `config.health`…), never the whole object.
 * @module
 */
import { z } from 'zod';
import { CanaryJudgeSchema, CanarySchema } from './canary.ts';
import { SCRIPT_LANGUAGES } from '../text/scripts.ts';
import { OwnNameSchema } from './own-names.ts';
import { SharedStateSchema } from './shared-state.ts';
import { textLimitConflicts } from './text-limits.ts';

const ms = (def: number) => z.number().int().nonnegative().default(def);

/** Languages as the gateway detects them, by script (text/scripts.ts): zh, en, ja, ko, ru, th… */
export const LanguageSchema = z.enum(SCRIPT_LANGUAGES);
export type Language = z.infer<typeof LanguageSchema>;

export const NodeSchema = z
  .object({
    id: z.string().min(1),
    url: z.url(),
    /** Config model ids (not pack names) this node serves. */
    models: z.array(z.string().min(1)).min(1),
    /**
     * Characters (code points) this node's runtime accepts: its own `max_text_chars` (unset:
     * the runtime's default, 4000; `npm start` launches local nodes with this value). Startup
     * refuses a config where a plan routed here allows more.
     */
    max_text_chars: z.number().int().positive().optional(),
  })
  .strict();

export const RegionSchema = z
  .object({
    name: z.string().min(1),
    /** Lower is preferred after the home region (Envoy priority levels). */
    priority: z.number().int().nonnegative().default(0),
    nodes: z.array(NodeSchema).min(1),
  })
  .strict();

export const ModelSchema = z
  .object({
    id: z.string().min(1),
    role: z.enum(['primary', 'fallback', 'canary']),
    engine: z.string().min(1),
    /** Pack name the node runtimes serve (`model` in the runtime body). Defaults to `id`. */
    pack: z.string().min(1).optional(),
    languages: z.array(LanguageSchema).min(1).default(['en']),
    voices: z.array(z.string().min(1)).min(1),
    /** Voice used when the request names none (or names one this model lacks on degrade). */
    default_voice: z.string().min(1).optional(),
    /**
     * OpenAI voice names (`alloy` … `marin`, `cedar`) → this model's voices, for
     * `/v1/audio/speech`. A name missing here gets the default voice, said by `x-voice`.
     */
    openai_voices: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** The engine reads `instructions`; when false they are dropped and `x-instructions: ignored` says so. */
    instructions: z.boolean().default(false),
    /**
     * How a segment of a non-deterministic pack survives a node dying under it (deterministic
     * packs always resume at the sample delivered): `hold_segment` holds each segment until it is
     * complete; `splice` streams at once and splices a re-synthesis (same seed) at the sample
     * delivered. docs/request-path.md compares them.
     */
    resume: z.enum(['hold_segment', 'splice']).default('hold_segment'),
    /** Longest segment one node request gets for this model (default `stream.max_segment_chars`). */
    max_segment_chars: z.number().int().positive().optional(),
    /** Slowest a node may stream this model, in audio seconds per second (default `stream.upstream_min_speed`). */
    upstream_min_speed: z.number().min(0).max(10).optional(),
  })
  .strict();

export const PlanSchema = z
  .object({
    /**
     * `primary_always` (enterprise): primary; fallback only when no primary capacity anywhere.
     * `primary_unless_busy` (pro): primary unless its estimated queue wait is over budget.
     * `fallback_unless_idle` (free): fallback, or primary while the primary pool is idle.
     */
    policy: z.enum(['primary_always', 'primary_unless_busy', 'fallback_unless_idle']),
    primary: z.string().min(1),
    fallback: z.string().min(1),
    /**
     * Models per language, for languages `primary`/`fallback` do not speak (or should not serve):
     * `{ zh: { primary: chattts, fallback: espeak-zh } }`. A text goes to the pair of its
     * language, with this plan's policy; a text of several languages to the first pair with a
     * model that speaks them all. A language no model of the plan speaks is refused (422).
     */
    languages: z.partialRecord(LanguageSchema, z.object({ primary: z.string().min(1), fallback: z.string().min(1) }).strict()).optional(),
    max_text_chars: z.number().int().positive(),
    /**
     * Text over what one node request takes: `segment` speaks it all (up to `max_text_chars`) as
     * segments streamed in order; `truncate` cuts at a sentence within the limit (`x-spoken-chars`
     * says how much was spoken); `reject` answers 413. Texts over `max_text_chars` are 413 under
     * `segment` and `reject`.
     */
    long_text: z.enum(['reject', 'truncate', 'segment']).default('reject'),
    /** Segments of one response synthesised at once (on different nodes where possible). */
    parallel_segments: z.number().int().min(1).max(16).default(1),
    rate_limit: z.object({ rps: z.number().positive(), burst: z.number().int().positive() }).strict(),
    /**
     * Share of the gateway concurrency limit this plan may fill: under load the lower plans are
     * shed first (free 0.6 → refused once 60% of the slots are busy).
     */
    load_share: z.number().gt(0).max(1).default(1),
    /** Default and maximum overall deadline for this plan's requests. */
    timeout_ms: ms(10_000),
    /** Async jobs (`POST /v1/jobs`); absent: this plan cannot submit jobs (403 `jobs_disabled`). */
    jobs: z
      .object({
        /** Longest job text (code points), far beyond `max_text_chars`. */
        max_chars: z.number().int().positive().default(100_000),
        /** Jobs queued or running per tenant; beyond it 429 `jobs_pending_quota`. */
        max_pending: z.number().int().positive().default(10),
        /** Characters a tenant may submit per UTC day; beyond it 429 `jobs_daily_quota`. */
        chars_per_day: z.number().int().positive().default(1_000_000),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Async jobs: where they live, how they run, how callbacks are delivered. docs/jobs.md. */
export const JobsSchema = z
  .object({
    /** SQLite file of the embedded job store (the audio lives under `audio_dir`). */
    store_path: z.string().min(1).default('.voxgate/jobs.sqlite'),
    audio_dir: z.string().min(1).default('.voxgate/jobs-audio'),
    /** How long a finished job and its audio are kept. */
    retention_ms: ms(24 * 3_600_000),
    /** Jobs one gateway runs at once. */
    concurrency: z.number().int().min(1).max(64).default(2),
    /**
     * Longest segment of a job (at most `stream.max_segment_chars`): a batch segment holds its
     * node slot for its whole synthesis, so shorter segments bound how long an interactive
     * request can wait behind one.
     */
    max_segment_chars: z.number().int().positive().default(200),
    /** Segments of one job synthesised at once. */
    parallel_segments: z.number().int().min(1).max(16).default(2),
    /** A running job's lease; renewed at a third of it. A job whose lease ran out is requeued. */
    lease_ms: ms(30_000),
    /** How often the runner looks for queued jobs, due callbacks and expired retention. */
    poll_ms: ms(500),
    /** Deadline of one segment (all its attempts). */
    segment_timeout_ms: ms(120_000),
    callbacks: z
      .object({
        /** Environment variable holding the Standard Webhooks secret (`whsec_…`). */
        secret_env: z.string().min(1).default('VOXGATE_WEBHOOK_SECRET'),
        allow_schemes: z.array(z.enum(['https', 'http'])).default(['https']),
        /** Host names exempt from the address check. */
        allow_hosts: z.array(z.string().min(1)).default([]),
        /** CIDR ranges exempt from the address check (e.g. `127.0.0.1/32` in a test). */
        allow_cidrs: z.array(z.string().min(1)).default([]),
        max_attempts: z.number().int().min(1).max(50).default(8),
        base_ms: ms(1_000),
        max_ms: ms(600_000),
        timeout_ms: ms(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const KeySchema = z
  .object({
    /** Plain key: only in a config with `local: true`. */
    key: z.string().min(1).optional(),
    /** Hex sha256 of the key: what real configs hold. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    tenant: z.string().min(1),
    plan: z.string().min(1),
  })
  .strict()
  .refine((k) => (k.key === undefined) !== (k.sha256 === undefined), {
    message: 'a key has exactly one of `key` or `sha256`',
  });

// The canary section's schema is config/canary.ts (the canary code reads it from there too).
export { CanarySchema };

export const ConfigSchema = z
  .object({
    /** Marks a developer config: plain-text keys are allowed only here. */
    local: z.boolean().default(false),
    /** This gateway's home region (overridable by `--region`). */
    region: z.string().min(1),
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    /**
     * Limits on the HTTP server itself, so a client that sends nothing, or a byte at a time, is
     * cut off long before Node's defaults (300 s per request, unlimited connections) would.
     */
    server: z
      .object({
        /** From connect until the request headers are complete (also bounds a connection that sends nothing). */
        headers_timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
        /** From connect until the whole request, body included, has arrived (synthesis time is not counted). */
        request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
        /** An idle keep-alive connection between two requests. */
        keep_alive_timeout_ms: z.number().int().min(100).max(600_000).default(5_000),
        /** Connections beyond this are closed as they arrive. */
        max_connections: z.number().int().min(1).max(1_000_000).default(4096),
      })
      .strict()
      .prefault({})
      .refine((s) => s.headers_timeout_ms <= s.request_timeout_ms, { message: 'server.headers_timeout_ms must be ≤ request_timeout_ms' }),
    /**
     * Who may read the operational pages: `public` (anyone), `token` (\`Authorization: Bearer\`
     * with the gateway's admin token, env VOXGATE_ADMIN_TOKEN) or `off` (404). Node URLs in
     * `/v1/status` are shown only to a caller with the token, or in a `local: true` config.
     */
    exposure: z
      .object({
        status: z.enum(['public', 'token', 'off']).default('public'),
        metrics: z.enum(['public', 'token', 'off']).default('public'),
        canary: z.enum(['public', 'token', 'off']).default('public'),
      })
      .strict()
      .prefault({}),
    regions: z.array(RegionSchema).min(1),
    models: z.array(ModelSchema).min(1),
    plans: z.record(OwnNameSchema, PlanSchema),
    keys: z.array(KeySchema).default([]),
    canaries: z.array(CanarySchema).default([]),
    canary_judge: CanaryJudgeSchema.prefault({}),
    /** Redis shared by several gateway replicas (config/shared-state.ts); absent: this gateway keeps its state to itself. */
    shared_state: SharedStateSchema.optional(),
    /** The audio cache (docs/jobs.md); absent: no request is cached. */
    cache: z
      .object({
        dir: z.string().min(1).default('.voxgate/audio-cache'),
        max_bytes: z
          .number()
          .int()
          .positive()
          .default(512 * 2 ** 20),
        /** Plans whose requests use the cache. */
        plans: z.array(z.string().min(1)).default([]),
        /** Tenants whose requests use the cache, whatever their plan. */
        tenants: z.array(z.string().min(1)).default([]),
        /**
         * The seed a cacheable request without one is pinned to: a request with no seed would
         * otherwise get a random one and could never hit.
         */
        default_seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(1),
        /** Largest answer kept (bytes); longer answers are served but not cached. */
        max_entry_bytes: z
          .number()
          .int()
          .positive()
          .default(8 * 2 ** 20),
      })
      .strict()
      .optional(),
    /** Async jobs; absent: `/v1/jobs` answers 404 and no runner starts. */
    jobs: JobsSchema.optional(),
    /** OpenAI `model` names → config model role for `POST /v1/audio/speech`. */
    openai_models: z
      .record(OwnNameSchema, z.enum(['primary', 'fallback']))
      .default({ 'tts-1-hd': 'primary', 'tts-1': 'fallback', 'gpt-4o-mini-tts': 'primary' }),
    /** Streamed synthesis (every answer): segments, buffering, failover. docs/request-path.md. */
    stream: z
      .object({
        /** Longest segment of one node request (models may set less). Shorter texts stay one segment. */
        max_segment_chars: z.number().int().positive().default(600),
        /** Bytes one response may hold between nodes and client; segments ahead pause beyond it. */
        max_buffered_bytes: z
          .number()
          .int()
          .min(16 * 1024)
          .default(1024 * 1024),
        /**
         * A client that, with its buffer full, reads slower than `reader_min_speed` × real time
         * over this window is cut (a stopped or trickling reader; a real-time player never is).
         */
        reader_stall_ms: z.number().int().positive().default(10_000),
        reader_min_speed: z.number().min(0).max(1).default(0.5),
        /** Resumptions of one segment on other nodes after mid-stream failures. */
        max_resumes: z.number().int().min(0).max(10).default(3),
        /**
         * A node that, once its audio began, streams slower than this many audio seconds per
         * second over `upstream_speed_window_ms` of waiting for it has failed the segment, which
         * resumes elsewhere: a node dripping audio never stalls a whole per-try timeout, and
         * would otherwise hold the response until its deadline. Only time the gateway waits for
         * the node counts (a slow client's back-pressure does not). 0 turns it off.
         */
        upstream_min_speed: z.number().min(0).max(10).default(0.2),
        upstream_speed_window_ms: z.number().int().positive().default(3_000),
      })
      .strict()
      .prefault({}),
    admission: z
      .object({
        max_concurrency: z.number().int().positive().default(30),
        body_limit_bytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024),
        max_timeout_ms: ms(60_000),
        /**
         * Request bodies one tenant may have arriving at once. The rate-limit token and the
         * concurrency slot are taken before the body is read; this keeps one tenant's slow
         * uploads from holding many of them.
         */
        max_uploads_per_tenant: z.number().int().positive().default(8),
      })
      .strict()
      .prefault({}),
    timeouts: z
      .object({
        /** Per-try timeout: attempt_ms + attempt_per_char_ms × text length, never past the deadline. */
        attempt_ms: ms(3_000),
        attempt_per_char_ms: z.number().nonnegative().default(2),
        connect_ms: ms(500),
        /** How long a request with no capable node reachable waits for one (within its deadline). */
        capacity_wait_ms: ms(1_000),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        max_attempts: z.number().int().min(1).max(10).default(4),
        /** Envoy retry budget: retries ≤ budget_percent of active requests, at least min_retry_concurrency. */
        budget_percent: z.number().min(0).max(100).default(20),
        min_retry_concurrency: z.number().int().nonnegative().default(3),
        /** linkerd/Finagle retry budget floor: retries earned per second besides budget_percent of requests. */
        min_retries_per_second: z.number().nonnegative().default(10),
        backoff_base_ms: ms(25),
        backoff_max_ms: ms(250),
        /** Longest `Retry-After` from a node the gateway will honour by waiting. */
        max_retry_after_ms: ms(1_000),
      })
      .strict()
      .prefault({})
      .refine((r) => r.backoff_base_ms <= r.backoff_max_ms, { message: 'retry.backoff_base_ms must be ≤ backoff_max_ms' }),
    health: z
      .object({
        interval_ms: z.number().int().positive().default(1_000),
        timeout_ms: z.number().int().positive().default(500),
        healthy_threshold: z.number().int().positive().default(2),
        unhealthy_threshold: z.number().int().positive().default(2),
      })
      .strict()
      .prefault({}),
    outlier_detection: z
      .object({
        consecutive_failures: z.number().int().positive().default(5),
        /** Connection refusals are local-origin failures: eject after this many (default at once). */
        consecutive_connect_failures: z.number().int().positive().default(1),
        base_ejection_ms: z.number().int().positive().default(5_000),
        max_ejection_ms: z.number().int().positive().default(60_000),
        max_ejection_percent: z.number().min(0).max(100).default(50),
      })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        error_threshold_percentage: z.number().min(1).max(100).default(50),
        volume_threshold: z.number().int().nonnegative().default(5),
        reset_timeout_ms: z.number().int().positive().default(5_000),
        /** Error-rate window; used as at least 2 × timeouts.attempt_ms (see layers/breaker). */
        rolling_window_ms: z.number().int().positive().default(10_000),
        /** Sentinel slow-call ratio: calls slower than expected count like failures. */
        slow_call_ratio: z.number().gt(0).max(1).default(0.5),
        slow_call_base_ms: z.number().int().positive().default(1_500),
        slow_call_per_char_ms: z.number().nonnegative().default(5),
      })
      .strict()
      .prefault({}),
    saturation: z
      .object({
        queue_depth: z.number().int().positive().default(20),
        cooldown_ms: z.number().int().positive().default(10_000),
      })
      .strict()
      .prefault({}),
    routing: z
      .object({
        overprovisioning_factor: z.number().min(1).default(1.4),
        panic_threshold_percent: z.number().min(0).max(100).default(50),
      })
      .strict()
      .prefault({}),
    degradation: z
      .object({
        /** pro: degrade when the primary pool's estimated queue wait exceeds enter, recover below exit. */
        busy_enter_wait_ms: z.number().nonnegative().default(1_000),
        busy_exit_wait_ms: z.number().nonnegative().default(400),
        /** free: primary while the primary pool's utilisation is below idle_enter, until it exceeds idle_exit. */
        idle_enter_utilization: z.number().min(0).max(1).default(0.25),
        idle_exit_utilization: z.number().min(0).max(1).default(0.5),
      })
      .strict()
      .prefault({})
      .refine((d) => d.busy_exit_wait_ms <= d.busy_enter_wait_ms, { message: 'degradation: busy_exit_wait_ms must be ≤ busy_enter_wait_ms' })
      .refine((d) => d.idle_enter_utilization <= d.idle_exit_utilization, {
        message: 'degradation: idle_enter_utilization must be ≤ idle_exit_utilization',
      }),
    upstream: z
      .object({
        connections_per_node: z.number().int().positive().default(64),
        /** Bodies up to this size are buffered; larger ones are streamed to the client. */
        buffer_max_bytes: z
          .number()
          .int()
          .positive()
          .default(128 * 1024),
      })
      .strict()
      .prefault({}),
    /**
     * Browser clients on other origins (CORS). Off by default: only same-origin pages (the
     * playground) may call the API from a browser. Listed origins get `Access-Control-Allow-*`
     * answers and preflights (`OPTIONS`) are answered; anything else is answered as without CORS.
     */
    cors: z
      .object({
        /** Origins exactly as browsers send them (`https://app.example.com`), or `*` for any. */
        allow_origins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/)).default([]),
        /** How long a browser may keep a preflight answer (`Access-Control-Max-Age`). */
        max_age_s: z.number().int().min(0).max(86_400).default(600),
      })
      .strict()
      .prefault({}),
    /** Read only by `npm start` (cluster/), which launches this topology's node runtimes on one machine. */
    local_cluster: z
      .object({
        models_dir: z.string().min(1).default('models'),
        slots: z.number().int().min(1).default(2),
        queue_limit: z.number().int().min(0).default(8),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const models = new Map(cfg.models.map((m) => [m.id, m]));
    if (models.size !== cfg.models.length) ctx.addIssue({ code: 'custom', message: 'model ids must be unique', path: ['models'] });
    const regionNames = new Set(cfg.regions.map((r) => r.name));
    if (regionNames.size !== cfg.regions.length) ctx.addIssue({ code: 'custom', message: 'region names must be unique', path: ['regions'] });
    if (!regionNames.has(cfg.region)) ctx.addIssue({ code: 'custom', message: `home region ${cfg.region} is not in regions`, path: ['region'] });
    const nodeIds = new Set<string>();
    cfg.regions.forEach((r, ri) =>
      r.nodes.forEach((n, ni) => {
        if (nodeIds.has(n.id)) ctx.addIssue({ code: 'custom', message: `duplicate node id ${n.id}`, path: ['regions', ri, 'nodes', ni, 'id'] });
        nodeIds.add(n.id);
        for (const m of n.models)
          if (!models.has(m)) ctx.addIssue({ code: 'custom', message: `node ${n.id} serves unknown model ${m}`, path: ['regions', ri, 'nodes', ni, 'models'] });
      }),
    );
    for (const [name, plan] of Object.entries(cfg.plans)) {
      const p = models.get(plan.primary);
      const f = models.get(plan.fallback);
      if (!p) ctx.addIssue({ code: 'custom', message: `plan ${name}: unknown primary model ${plan.primary}`, path: ['plans', name, 'primary'] });
      if (!f) ctx.addIssue({ code: 'custom', message: `plan ${name}: unknown fallback model ${plan.fallback}`, path: ['plans', name, 'fallback'] });
      for (const [lang, pair] of Object.entries(plan.languages ?? {})) {
        if (!pair) continue;
        const path = ['plans', name, 'languages', lang];
        const pm = models.get(pair.primary);
        const fm = models.get(pair.fallback);
        if (!pm) ctx.addIssue({ code: 'custom', message: `plan ${name}: ${lang}: unknown primary model ${pair.primary}`, path });
        if (!fm) ctx.addIssue({ code: 'custom', message: `plan ${name}: ${lang}: unknown fallback model ${pair.fallback}`, path });
        if (pm && fm && !pm.languages.includes(lang as Language) && !fm.languages.includes(lang as Language))
          ctx.addIssue({ code: 'custom', message: `plan ${name}: neither ${pair.primary} nor ${pair.fallback} speaks ${lang}`, path });
      }
    }
    for (const m of cfg.models) {
      if (m.default_voice !== undefined && !m.voices.includes(m.default_voice))
        ctx.addIssue({ code: 'custom', message: `model ${m.id}: default_voice not in voices`, path: ['models'] });
      for (const [name, voice] of Object.entries(m.openai_voices))
        if (!m.voices.includes(voice))
          ctx.addIssue({ code: 'custom', message: `model ${m.id}: openai_voices.${name} → ${voice} is not one of its voices`, path: ['models'] });
    }
    cfg.keys.forEach((k, i) => {
      if (!Object.hasOwn(cfg.plans, k.plan))
        ctx.addIssue({ code: 'custom', message: `key for ${k.tenant}: unknown plan ${k.plan}`, path: ['keys', i, 'plan'] });
      if (k.key !== undefined && !cfg.local)
        ctx.addIssue({
          code: 'custom',
          message: 'plain-text keys are allowed only in a config marked `local: true`; store sha256 hashes',
          path: ['keys', i, 'key'],
        });
    });
    // A `segment` plan sends a node one segment at a time, never more than stream.max_segment_chars.
    const requestMax = (_name: string, plan: { max_text_chars: number; long_text?: string }) =>
      plan.long_text === 'segment' ? Math.min(plan.max_text_chars, cfg.stream.max_segment_chars) : plan.max_text_chars;
    for (const message of textLimitConflicts(cfg, requestMax)) ctx.addIssue({ code: 'custom', message, path: ['plans'] });
    cfg.canaries.forEach((c, i) => {
      if (!models.has(c.canary)) ctx.addIssue({ code: 'custom', message: `canary: unknown model ${c.canary}`, path: ['canaries', i, 'canary'] });
      if (!models.has(c.baseline)) ctx.addIssue({ code: 'custom', message: `canary: unknown baseline ${c.baseline}`, path: ['canaries', i, 'baseline'] });
    });
  });

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.infer<typeof ConfigSchema>;
export type RegionConfig = Config['regions'][number];
export type NodeConfig = RegionConfig['nodes'][number];
export type ModelConfig = Config['models'][number];
export type PlanConfig = Config['plans'][string];
export type KeyConfig = Config['keys'][number];
