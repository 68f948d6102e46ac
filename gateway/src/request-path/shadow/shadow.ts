/**
 * The shadow seam (the canary's mirror fills it in: `canary/mirror/`). After dispatch the
 * request path hands every served request to `ShadowHook.observe`, synchronously and just before
 * the response is written, and never awaits what it returns: a mirror must not delay, alter or
 * fail the client's response, so `observe` only decides and copies, and sends later. The
 * default is a null object.
 * @module
 */
import type { SynthesisInput } from '../admit/body.ts';
import type { Plan } from '../plan/plan.ts';

export interface ServedMeta {
  model: string;
  node: string;
  region: string;
  status: number;
  latencyMs: number;
  attempts: number;
  /** Response headers from the node (x-audio-ms, x-sample-rate, x-model-version…). */
  headers: Readonly<Record<string, string>>;
  /**
   * The audio when it was buffered (bodies over the buffer limit stream and are not kept). Valid
   * only during `observe`: the buffer goes back to the body pool once the client has it, so a
   * hook that keeps the bytes copies them.
   */
  audio: Buffer | undefined;
  /**
   * For a streamed body when the hook asked for it (`captureStreams`): the bytes the client got,
   * once its stream has ended; undefined when it broke off or was too large to keep.
   */
  audioLater?: Promise<Buffer | undefined>;
}

export interface ShadowEvent {
  traceId: string;
  tenant: string;
  input: Readonly<SynthesisInput>;
  /** The (possibly truncated) text that was synthesised. */
  text: string;
  plan: Readonly<Plan>;
  served: ServedMeta;
}

export interface ShadowHook {
  observe(event: ShadowEvent): void | Promise<void>;
  /**
   * True when this request's streamed body should be copied aside for the hook (see tee.ts):
   * asked before the body streams, so only requests the hook will use pay for the copy.
   */
  captureStreams?(text: string, planName: string): boolean;
  /** True while `observe` would do nothing for any request (no canary configured): the request
   * path then builds no event at all. */
  idle?(): boolean;
  close?(): Promise<void>;
}

export const nullShadow: ShadowHook = { observe() {}, idle: () => true };

/** Runs `observe` now; its errors, sync or async, go to `onError`, never to the caller. */
export function fireShadow(hook: ShadowHook, event: ShadowEvent, onError: (err: unknown) => void): void {
  try {
    const pending = hook.observe(event);
    if (pending) pending.catch(onError);
  } catch (err) {
    onError(err);
  }
}
