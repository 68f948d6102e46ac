/**
 * The jobs feature as one owned unit: the store, the signed callback sender with its
 * SSRF-guarded agent, the runner, and the routes. Built only when the config has a `jobs`
 * section. The store is SQLite plus an audio directory for one gateway, or Redis plus a shared
 * audio directory when the replicas share state (`shared_state`), so a job outlives the replica
 * that accepted it. Owner: the gateway; `close()` it (runner first, then agent and store).
 * @module
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Config, ModelConfig } from '../config/schema.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { KeyTable } from '../request-path/admit/auth.ts';
import type { Latches } from '../request-path/plan/hysteresis.ts';
import type { EndpointSet } from '../upstream/endpoints.ts';
import type { Service } from '../upstream/service.ts';
import { guardedAgent } from './callback-guard.ts';
import { SqliteJobStore, type JobRecord, type JobStore } from './job-store.ts';
import { callbackPolicy, mountJobRoutes } from './routes.ts';
import { planBatch } from './plan-batch.ts';
import { JobRunner } from './runner.ts';
import { WebhookSender } from './webhook.ts';

export interface JobServiceDeps {
  config: () => Config;
  models: () => ReadonlyMap<string, ModelConfig>;
  keys: () => KeyTable;
  endpoints: EndpointSet;
  latches: Latches;
  service: Service;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /**
   * The store the replicas share (Redis, built by the gateway when `shared_state` is set) over
   * the given audio directory; absent: SQLite, this gateway's own.
   */
  sharedStore?: ((audioDir: string) => JobStore) | undefined;
}

export interface JobService {
  runner: JobRunner;
  close(): Promise<void>;
}

/**
 * @example
 * const jobs = createJobService(routeSink(extraRoutes), deps); // undefined without a `jobs` config section
 * await jobs?.close();
 */
export function createJobService(app: Parameters<typeof mountJobRoutes>[0], deps: JobServiceDeps): JobService | undefined {
  const initial = deps.config();
  const cfg = initial.jobs;
  if (!cfg) return undefined;
  // With shared state every replica must mount `audio_dir` (a ReadWriteMany volume): segments
  // written by one replica are read back by whichever finishes the job.
  const store: JobStore = deps.sharedStore
    ? deps.sharedStore(path.resolve(cfg.audio_dir))
    : new SqliteJobStore(path.resolve(cfg.store_path), path.resolve(cfg.audio_dir));
  let secret = process.env[cfg.callbacks.secret_env];
  if (!secret) {
    // Callbacks still go out, signed with a key nobody can verify: the operator is told once.
    secret = `whsec_${randomBytes(24).toString('base64')}`;
    deps.log.warn({ env: cfg.callbacks.secret_env }, 'no webhook secret configured; job callbacks are signed with a random key');
  }
  const policy = callbackPolicy(initial);
  const agent = guardedAgent(policy, { connectTimeoutMs: cfg.callbacks.timeout_ms });
  const sender = new WebhookSender(secret, policy, agent, {
    maxAttempts: cfg.callbacks.max_attempts,
    baseMs: cfg.callbacks.base_ms,
    maxMs: cfg.callbacks.max_ms,
    timeoutMs: cfg.callbacks.timeout_ms,
  });

  /** The job's text planned as an interactive request of its plan would be, from this region. */
  const specs = (job: JobRecord) => {
    const input = {
      text: job.request.text,
      voice: job.request.voice,
      format: 'pcm' as const,
      speed: job.request.speed,
      seed: job.request.seed,
      role: undefined,
    };
    const { parts, specs } = planBatch(deps, input, job.plan, deps.config().jobs?.max_segment_chars);
    return { specs, regions: parts[0]!.plan.regions };
  };

  const runner = new JobRunner({ store, service: deps.service, config: deps.config, specs, sender, clock: deps.clock, log: deps.log, registry: deps.registry });
  mountJobRoutes(app, { store, runner, config: deps.config, keys: deps.keys, clock: deps.clock });
  runner.start();
  return {
    runner,
    async close() {
      await runner.close();
      await agent.close();
      await store.close();
    },
  };
}
