/**
 * The `shared_state` section: the Redis that several gateway replicas share (tenant rate limits,
 * canary pairs and verdicts, jobs). Absent, the gateway keeps everything to itself — the embedded
 * default for one gateway. Gateway config, the jobs store and `npm start -- --gateways N` all
 * read this one schema.
 * @module
 */
import { z } from 'zod';

export const SharedStateSchema = z
  .object({
    /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
    redis_url: z.string().regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL'),
    /** Prefix of every key this deployment writes, so several deployments can share one Redis. */
    prefix: z.string().min(1).default('voxgate:'),
    /** Per-command bound: past it a request falls back (e.g. to this replica's share of a limit). */
    command_timeout_ms: z.number().int().min(1).max(10_000).default(50),
  })
  .strict();

export type SharedStateConfig = z.infer<typeof SharedStateSchema>;
