/**
 * onnxruntime-node session creation from the runtime's ExecutionSettings.
 *
 * Providers are tried in the configured order (`cuda` then `cpu` on a GPU host); a provider
 * that cannot start (no CUDA libraries, no device) is skipped with its reason recorded, and the
 * one that worked is reported by describe(). Note what onnxruntime-node 1.30 can pass to the CUDA
 * EP: only `deviceId` (js/node/src/session_options_helper.cc builds OrtCUDAProviderOptionsV2 with
 * device_id alone). `gpuMemLimitBytes` and `arenaExtendStrategy` therefore cannot reach the CUDA
 * arena from Node; we report them as not applied instead of pretending, and operators sharing a
 * card must rely on per-process slot limits (or CUDA_VISIBLE_DEVICES / MPS limits) for now.
 * @module
 */
import * as ort from 'onnxruntime-node';
import type { ExecutionSettings } from '../engine.ts';

export interface SessionFactory {
  create(path: string): Promise<ort.InferenceSession>;
  /** The provider the first session was created with. */
  provider(): string;
  notes(): Record<string, string | number | boolean>;
}

export function createSessionFactory(exec: ExecutionSettings): SessionFactory {
  let chosen: string | undefined;
  const skipped: string[] = [];
  const base = (): ort.InferenceSession.SessionOptions => ({
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(exec.intraOpThreads > 0 ? { intraOpNumThreads: exec.intraOpThreads } : {}),
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Intra-op threads sleep between parallel sections instead of spinning. Spinning buys a little
    // latency on an idle machine, but these threads share cores with the runtime's event loop and
    // other requests: on a loaded 2-core host, spinning made synthesis 1.5–3× slower and delayed
    // the main thread's timers by up to 1.3 s (measured with the full-size int8 pack).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const providerOption = (name: string): ort.InferenceSession.ExecutionProviderConfig => (name === 'cuda' ? { name: 'cuda', deviceId: exec.deviceId } : name);

  return {
    async create(path) {
      if (chosen !== undefined) return ort.InferenceSession.create(path, { ...base(), executionProviders: [providerOption(chosen)] });
      const candidates = exec.providers.length > 0 ? exec.providers : ['cpu'];
      let lastError: unknown;
      for (const name of candidates) {
        try {
          const s = await ort.InferenceSession.create(path, { ...base(), executionProviders: [providerOption(name)] });
          chosen = name;
          return s;
        } catch (error) {
          lastError = error;
          skipped.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        }
      }
      throw new Error(`no execution provider could load ${path}: ${skipped.join('; ')}`, { cause: lastError });
    },
    provider: () => chosen ?? 'none',
    notes() {
      const onGpu = chosen === 'cuda';
      return {
        device_id: exec.deviceId,
        intra_op_threads: exec.intraOpThreads,
        intra_op_spinning: false,
        gpu_mem_limit_bytes: exec.gpuMemLimitBytes,
        arena_extend_strategy: exec.arenaExtendStrategy,
        // Honest about onnxruntime-node's binding: these two never reach the CUDA EP.
        gpu_mem_limit_applied: false,
        arena_extend_strategy_applied: false,
        ...(onGpu ? {} : { gpu_settings_ignored: 'cpu execution provider' }),
        ...(skipped.length > 0 ? { providers_skipped: skipped.join('; ') } : {}),
      };
    },
  };
}
