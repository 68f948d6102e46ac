/**
 * The node runtime's configuration: one strict zod schema with the defaults in it. Everything
 * the process does is derived from a value of this type; nothing else reads flags or env.
 * @module
 */
import { z } from 'zod';

export const ExecutionSchema = z
  .object({
    /** Ordered preference; the first provider the engine can start wins. `cuda` needs a GPU build. */
    providers: z
      .array(z.enum(['cuda', 'cpu']))
      .min(1)
      .default(['cpu']),
    device_id: z.number().int().nonnegative().default(0),
    /** Per-process GPU memory cap, so several runtimes can share one card (0 = unlimited). */
    gpu_mem_limit_mb: z.number().int().nonnegative().default(0),
    arena_extend_strategy: z.enum(['kNextPowerOfTwo', 'kSameAsRequested']).default('kSameAsRequested'),
    intra_op_threads: z.number().int().nonnegative().default(0),
  })
  .strict();

/**
 * Limits on the HTTP server itself, so a client that sends nothing, or a byte at a time, is cut
 * off long before Node's own defaults (a 300 s request timeout, unlimited connections) would.
 * A slowloris holds a connection at most `request_timeout_ms`; there are at most
 * `max_connections` of them; the gateway's pools are sized far below that.
 */
export const ServerLimitsSchema = z
  .object({
    /** From connect until the request headers are complete (also bounds a connection that sends nothing). */
    headers_timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    /** From connect until the whole request, body included, has arrived. Synthesis time is not counted. */
    request_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
    /** An idle keep-alive connection between two requests. */
    keep_alive_timeout_ms: z.number().int().min(100).max(600_000).default(5_000),
    /** Connections beyond this are closed as they arrive. */
    max_connections: z.number().int().min(1).max(1_000_000).default(1024),
  })
  .strict()
  .refine((s) => s.headers_timeout_ms <= s.request_timeout_ms, 'headers_timeout_ms must not exceed request_timeout_ms');

export type ServerLimits = z.infer<typeof ServerLimitsSchema>;

export const RuntimeConfigSchema = z
  .object({
    node_id: z.string().min(1).default('node-1'),
    region: z.string().min(1).default('local'),
    host: z.string().default('127.0.0.1'),
    /** 0 picks a free port; the chosen URL is logged with msg "listening". */
    port: z.number().int().min(0).max(65535).default(7001),
    models_dir: z.string().min(1).default('models'),
    /** Pack names to serve from models_dir; empty = every pack found there. */
    models: z.array(z.string()).default([]),
    /** Concurrent inferences: one per worker thread (CPU) or per GPU stream budget. */
    slots: z.number().int().min(1).max(256).default(2),
    /** Requests allowed to wait for a slot; one more is refused with 503 at once. */
    queue_limit: z.number().int().min(0).max(10_000).default(8),
    /** Budget when a request arrives without `x-request-deadline-ms`. */
    default_deadline_ms: z.number().int().positive().default(30_000),
    /** Counted in Unicode code points, the way the gateway counts (an emoji is one). */
    max_text_chars: z.number().int().positive().default(4000),
    max_body_bytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024),
    /** Without a token the admin endpoints do not exist (404). An empty string counts as none. */
    admin_token: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().min(16).optional()),
    /** How long SIGTERM waits for in-flight and queued work before closing anyway. */
    drain_timeout_ms: z.number().int().nonnegative().default(10_000),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    execution: ExecutionSchema.default(() => ExecutionSchema.parse({})),
    server: ServerLimitsSchema.default(() => ServerLimitsSchema.parse({})),
  })
  .strict();

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
