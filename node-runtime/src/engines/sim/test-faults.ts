/**
 * The simulator's test-only fault hooks. The leak store is module-level on purpose: a real leak
 * survives a model hot swap (it lives in the process, not the model), so disposing the engine
 * must not free it — only the process dying does, which is the point of the scenario.
 * @module
 */
import type { SimTestFaults } from './sim-parameters.ts';

const leaked: Buffer[] = [];
let leakedBytes = 0;

/** What goes wrong in one stream, drawn when it starts; an absent field: nothing of that kind. */
export interface StreamFaults {
  fail: boolean;
  die?: { afterMs: number; mode: 'reset' | 'exit' };
  stall?: { afterMs: number; stallMs: number | undefined };
}

export interface FaultHooks {
  /** Called once per served request. */
  afterRequest(): void;
  /** Draws this request's faults. Draws nothing for a kind the pack does not configure. */
  planStream(): StreamFaults;
  readonly active: boolean;
}

export function createFaultHooks(faults: SimTestFaults, random: () => number = Math.random): FaultHooks {
  const { die_mid_stream: die, stall_mid_stream: stall } = faults;
  const active = faults.leak_bytes_per_request > 0 || faults.fail_rate > 0 || die !== undefined || stall !== undefined;
  return {
    active,
    afterRequest() {
      if (faults.leak_bytes_per_request === 0) return;
      // Buffer.alloc with a fill touches every page, so the leak shows in RSS, not just in the
      // virtual size — the OOM killer (and the chaos supervisor playing it) reads RSS.
      leaked.push(Buffer.alloc(faults.leak_bytes_per_request, 0x5a));
      leakedBytes += faults.leak_bytes_per_request;
    },
    planStream() {
      const plan: StreamFaults = { fail: faults.fail_rate > 0 && random() < faults.fail_rate };
      if (die && random() < die.rate) plan.die = { afterMs: die.after_ms, mode: die.mode };
      if (stall && random() < stall.rate) plan.stall = { afterMs: stall.after_ms, stallMs: stall.stall_ms };
      return plan;
    },
  };
}

export function leakedByteCount(): number {
  return leakedBytes;
}

/** A failure the runtime maps to 503 `engine_failure` (retryable), like a GPU out-of-memory. */
export class SimulatedEngineFailure extends Error {
  override readonly name = 'SimulatedEngineFailure';
  readonly code = 'engine_failure';
}
