/**
 * The simulator's knobs, read from a sim pack's manifest `parameters`. The simulator exists for
 * tests and benchmarks only (see sim-engine.ts); its packs live under `test/fixtures/models/`.
 *
 * Timing model (llm-d's inference simulator does the same for LLMs): the audio a text would
 * produce lasts `ms_per_char × chars / speed`, and computing it takes `rtf × audio ms`, spread by
 * ± `jitter`. The runtime's own scheduler supplies the queue, so queueing under load is real.
 * A stream delivers `chunk_ms` of audio at a time: `base_ms` before the first chunk, then each
 * chunk after its own `rtf × chunk_ms`, so time to first audio behaves like a streaming model's.
 * @module
 */
import { z } from 'zod';

const MidStreamFaultSchema = z.object({
  /** Probability per request. */
  rate: z.number().min(0).max(1).default(1),
  /** Audio delivered before the fault strikes. */
  after_ms: z.number().min(0).max(600_000).default(500),
});

/**
 * Fault hooks for chaos scenarios. They are off unless a test pack's manifest turns them on;
 * no HTTP endpoint can set them (a pack is only read from the models directory on disk).
 */
export const SimTestFaultsSchema = z
  .object({
    /**
     * Bytes retained forever per served request, to play "the node that leaks memory until it
     * is OOM-killed" (how the original outage began). Capped so a typo cannot eat the machine.
     */
    leak_bytes_per_request: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024)
      .default(0),
    /**
     * Probability that a request fails with a retryable `engine_failure` (a GPU OOM, say), before
     * its first chunk.
     */
    fail_rate: z.number().min(0).max(1).default(0),
    /**
     * The node "dies" part-way through a stream, after `after_ms` of audio went out: `reset`
     * drops the connection without a final frame (what a gateway sees of a crash, and the node
     * lives on for the next request); `exit` kills the whole process with SIGKILL (an OOM kill).
     */
    die_mid_stream: MidStreamFaultSchema.extend({ mode: z.enum(['reset', 'exit']).default('reset') })
      .strict()
      .optional(),
    /**
     * The stream stops making progress after `after_ms` of audio, for `stall_ms` (absent: until
     * the request's deadline or its client gives up), like a wedged GPU.
     */
    stall_mid_stream: MidStreamFaultSchema.extend({ stall_ms: z.number().int().positive().max(600_000).optional() })
      .strict()
      .optional(),
  })
  .strict();

export const SimParametersSchema = z
  .object({
    /** Compute time per unit of audio time; 0.05 = twenty times faster than real time. */
    rtf: z.number().min(0).max(10).default(0.05),
    /** Uniform spread of the compute time, as a fraction of it: 0.2 → ±20 %. */
    jitter: z.number().min(0).max(1).default(0.2),
    /** Fixed cost added to every request (model call overhead), before jitter. */
    base_ms: z.number().min(0).max(60_000).default(0),
    /** Audio produced per input character at speed 1. */
    ms_per_char: z.number().positive().max(1_000).default(60),
    min_audio_ms: z.number().int().positive().default(200),
    max_audio_ms: z.number().int().positive().max(600_000).default(30_000),
    /** Audio per streamed chunk; each chunk is delivered after its own share of the compute time. */
    chunk_ms: z.number().min(10).max(60_000).default(250),
    /** Base pitch of the synthetic chirp; each voice shifts it so voices are distinguishable. */
    tone_hz: z.number().min(20).max(4_000).default(220),
    test_faults: SimTestFaultsSchema.prefault({}),
  })
  .strict()
  .refine((p) => p.min_audio_ms <= p.max_audio_ms, { message: 'min_audio_ms must be ≤ max_audio_ms' });

export type SimParameters = z.infer<typeof SimParametersSchema>;
export type SimTestFaults = z.infer<typeof SimTestFaultsSchema>;

/** Throws an Error naming every invalid field, so a bad test pack is refused at load. */
export function parseSimParameters(raw: unknown): SimParameters {
  const parsed = SimParametersSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'parameters'}: ${i.message}`).join('; ');
    throw new Error(`sim pack parameters invalid: ${issues}`);
  }
  return parsed.data;
}
