/**
 * One streamed response: its segments synthesised as separate node requests through the layer
 * stack (retry → attempt timeout → balance → breaker → pool), up to `parallel` at once (once the
 * first segment has audio) and on different nodes where possible, and their audio handed to the
 * client strictly in order, each segment's as soon as the one before it has been taken.
 *
 * - **Back-pressure.** Every byte between node and client is counted in a `ByteBudget`. A segment
 *   ahead of the one being delivered pauses (stops reading its node) while the budget is full;
 *   the segment being delivered pauses while it has bytes queued and the budget is full. A reader
 *   that, with the budget full, takes audio slower than `readerMinSpeed` × real time over a
 *   `readerStallMs` window is cut: the run is cancelled (`VOX_ERR_CLIENT_CLOSED`), logged and
 *   counted.
 * - **Cancellation.** The run has one signal, aborted by the request's deadline (which the
 *   client leaving also aborts) or by `cancel()`: every node request of the response listens to
 *   it, so all of them stop together. A consumer that stops iterating cancels the run.
 * - **Mid-stream failover** (segment-attempts.ts): a node that dies, resets or stalls while
 *   streaming a segment is replaced and the segment resumed where the client's audio stopped.
 * @module
 */
import type { SegmentEntries } from '../cache/response-cache.ts';
import type { ModelConfig } from '../config/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AttemptRecord, RequestPriority, Service } from '../upstream/service.ts';
import { TrySignal, type AttemptSignal } from '../core/try-signal.ts';
import type { Clock } from '../lifecycle/clock.ts';
import type { Logger } from '../observability/logger.ts';
import { ByteBudget } from './byte-budget.ts';
import { runSegment, type ResumeMode } from './segment-attempts.ts';
import type { StreamMetrics } from './stream-metrics.ts';

/** One segment and who speaks it. */
export interface SegmentSpec {
  text: string;
  model: ModelConfig;
  voice: string;
  /** Where the segment goes when no node of `model` can serve it (the plan's fallback). */
  fallback?: { model: ModelConfig; voice: string };
}

export interface StreamPlan {
  traceId: string;
  segments: SegmentSpec[];
  /** Region order, home first. */
  regions: string[];
  /** Pinned for the whole response, so that any node reproduces any segment. */
  seed: number;
  speed?: number;
  instructions?: string;
  /** ChatTTS's refine-text switch, forwarded to every segment's node request. */
  refineText?: boolean;
  /** ChatTTS's first-sentence audio prompt switch, forwarded likewise. */
  firstSentencePrompt?: boolean;
  /**
   * `batch` for jobs and pre-synthesis: nodes run it only in slots no interactive request waits
   * for, and the gateway keeps it out of its capacity signals. Default interactive.
   */
  priority?: RequestPriority;
  parallel: number;
  deadlineAt: number;
  /** The request's deadline (aborted too when the client leaves). */
  deadline: AttemptSignal;
}

export interface RunOptions {
  service: Service;
  clock: Clock;
  log: Logger;
  metrics: StreamMetrics;
  /** The per-try timeout for a text of this length: bounds time to first chunk and each gap. */
  gapMs: (textLength: number) => number;
  maxBufferedBytes: number;
  /** The window over which a reader with a full buffer must keep up. */
  readerStallMs: number;
  /** Slowest reading allowed, in audio seconds per second (0.5 = half real time). */
  readerMinSpeed: number;
  /** Resumptions allowed per segment after mid-stream failures. */
  maxResumes: number;
  /** Slowest a node may stream a model's audio, in audio seconds per second (absent: unchecked). */
  upstreamMinSpeed?: (model: ModelConfig) => number;
  /** The window of waiting over which that speed is judged. */
  upstreamSpeedWindowMs?: number;
  /** How a non-deterministic model's segments survive a node failure. */
  resumeMode: (model: ModelConfig) => ResumeMode;
  /** Segments served from and kept in the audio cache (absent: every segment from a node). */
  segmentCache?: SegmentEntries;
}

export type StreamEvent =
  { kind: 'audio'; segment: number; pcm: Buffer; sampleRate: number } | { kind: 'switch'; segment: number; from: string; to: string; reason: string };

/** A segment's queue between its producer and the consumer. */
export class SegmentSlot {
  readonly queue: StreamEvent[] = [];
  queuedBytes = 0;
  done = false;
  error: unknown = undefined;
  /** Nodes whose audio this segment delivered, in order (a resumed segment has several). */
  readonly nodes: string[] = [];
  /** The region of each of `nodes`. */
  readonly regions: string[] = [];
  models: string[] = [];
  /** The first node answer's headers (x-model-version, x-engine…). */
  headers: Readonly<Record<string, string>> | undefined;
  /** Nodes streaming this segment now (other segments avoid them where they can). */
  streamingOn: string | undefined;
  #wake: (() => void) | undefined;

  push(ev: StreamEvent): void {
    this.queue.push(ev);
    this.notify();
  }

  notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  changed(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

export interface RunSummary {
  /** Nodes that delivered audio, in the order the client heard them. */
  nodes: string[];
  /** Their regions. */
  regions: string[];
  /** Models that spoke, in order of first use. */
  models: string[];
  attempts: AttemptRecord[];
  resumes: number;
  switches: number;
  cachedSegments: number;
  /** Samples delivered, by sample rate run (one entry unless a switch changed the rate). */
  samples: number;
}

/**
 * @example
 * const run = new SegmentRun(plan, options);
 * await run.first(); // the first audio exists: send headers
 * for await (const ev of run) if (ev.kind === 'audio') write(ev.pcm);
 */
export class SegmentRun implements AsyncIterable<StreamEvent> {
  readonly signal = new TrySignal();
  readonly budget: ByteBudget;
  readonly slots: SegmentSlot[];
  readonly attempts: AttemptRecord[] = [];
  /** Model switches made in this response (from → to), sticky for later segments. */
  readonly switchedTo = new Map<string, { model: ModelConfig; voice: string }>();
  resumes = 0;
  switches = 0;
  /** Segments delivered from the segment cache. */
  cachedSegments = 0;
  samples = 0;
  head = 0;
  #next = 0;
  #running = 0;
  #finished = false;
  /** The first segment has audio (or ended): the other segments may start. */
  #heard = false;
  /** Audio the consumer has taken, in ms. */
  #takenMs = 0;
  #watch: NodeJS.Timeout | undefined;
  readonly #onDeadline: () => void;
  readonly #first: Promise<void>;
  #firstSettle: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  constructor(
    readonly plan: StreamPlan,
    readonly options: RunOptions,
  ) {
    if (plan.segments.length === 0) throw new GatewayError('VOX_ERR_INTERNAL', 'a streamed response needs at least one segment');
    this.budget = new ByteBudget(options.maxBufferedBytes, (delta) => options.metrics.bufferedBytes.inc(delta));
    this.slots = plan.segments.map(() => new SegmentSlot());
    this.#onDeadline = () => this.cancel(plan.deadline.reason);
    plan.deadline.addEventListener('abort', this.#onDeadline, { once: true });
    this.#first = new Promise<void>((resolve, reject) => (this.#firstSettle = { resolve, reject }));
    // Nobody may be awaiting first() yet; its rejection is also seen by the iterator.
    this.#first.catch(() => undefined);
    if (plan.deadline.aborted) this.cancel(plan.deadline.reason);
    else this.#startMore();
  }

  /** Resolves once the first segment has audio (or finished empty); rejects when it failed first. */
  first(): Promise<void> {
    return this.#first;
  }

  /** Stops every node request of the response; idempotent. */
  cancel(reason: unknown): void {
    if (this.signal.aborted) return;
    this.signal.abort(reason ?? new GatewayError('VOX_ERR_CLIENT_CLOSED'));
    this.budget.release();
    for (const s of this.slots) s.notify();
    this.#firstSettle?.reject(this.signal.reason);
    this.#dispose();
  }

  summary(): RunSummary {
    const nodes: string[] = [];
    const regions: string[] = [];
    const models: string[] = [];
    for (const s of this.slots) {
      nodes.push(...s.nodes);
      regions.push(...s.regions);
      for (const m of s.models) if (!models.includes(m)) models.push(m);
    }
    return {
      nodes,
      regions,
      models,
      attempts: this.attempts,
      resumes: this.resumes,
      switches: this.switches,
      cachedSegments: this.cachedSegments,
      samples: this.samples,
    };
  }

  /** Nodes streaming other segments now: a new segment prefers any other node. */
  busyNodes(except: number): Set<string> {
    const out = new Set<string>();
    this.slots.forEach((s, i) => {
      if (i !== except && s.streamingOn) out.add(s.streamingOn);
    });
    return out;
  }

  /** Called by a producer after queueing bytes: waits while it should pause (see module doc). */
  async room(index: number): Promise<void> {
    const slot = this.slots[index]!;
    while (!this.signal.aborted && this.budget.full && (index !== this.head || slot.queuedBytes > 0)) {
      this.#watchReader();
      await this.budget.nextTake();
    }
  }

  /**
   * While the budget is full, checks every quarter window that the reader keeps taking audio at
   * `readerMinSpeed` × real time or more over each `readerStallMs` window; a reader below it
   * (stopped, or trickling like a 1 KiB/s client) is cut. A player reading at real time keeps the
   * buffer full for the whole response (synthesis runs ahead of it) and is never cut.
   */
  #watchReader(): void {
    if (this.#watch) return;
    const o = this.options;
    let since: { at: number; takenMs: number } | undefined;
    // eslint-disable-next-line no-restricted-globals -- not yet on the Clock (its owner's change); it reads o.clock for the time itself.
    this.#watch = setInterval(
      () => {
        const now = o.clock.now();
        if (this.signal.aborted || !this.budget.full) {
          since = undefined;
          return;
        }
        if (!since) since = { at: now, takenMs: this.#takenMs };
        else if (now - since.at >= o.readerStallMs) {
          const speed = (this.#takenMs - since.takenMs) / (now - since.at);
          if (speed < o.readerMinSpeed) this.#readerStalled(speed);
          else since = { at: now, takenMs: this.#takenMs };
        }
      },
      Math.max(10, Math.floor(o.readerStallMs / 4)),
    );
    this.#watch.unref();
  }

  /** The first audio of the response exists (or the first segment ended empty). */
  firstAudio(): void {
    if (this.#heard) return;
    this.#heard = true;
    this.#firstSettle?.resolve();
    this.#firstSettle = undefined;
    this.#startMore();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    try {
      for (let i = 0; i < this.slots.length; i++) {
        this.head = i;
        // The new head may be paused behind the budget: let it re-check.
        this.budget.release();
        this.#startMore();
        const slot = this.slots[i]!;
        for (;;) {
          if (this.signal.aborted) throw this.signal.reason;
          const ev = slot.queue.shift();
          if (ev) {
            if (ev.kind === 'audio') {
              slot.queuedBytes -= ev.pcm.length;
              this.budget.take(ev.pcm.length);
              this.samples += ev.pcm.length >> 1;
              this.#takenMs += ((ev.pcm.length >> 1) * 1000) / ev.sampleRate;
            }
            yield ev;
            continue;
          }
          if (slot.error !== undefined) throw slot.error;
          if (slot.done) break;
          await slot.changed();
        }
      }
      this.#finished = true;
    } finally {
      if (!this.#finished) this.cancel(this.signal.aborted ? this.signal.reason : new GatewayError('VOX_ERR_CLIENT_CLOSED', 'the client stopped reading'));
      this.#dispose();
    }
  }

  #readerStalled(speed: number): void {
    if (this.signal.aborted) return;
    this.options.metrics.readerStalls.inc();
    this.options.log.warn(
      { trace_id: this.plan.traceId, held_bytes: this.budget.held, window_ms: this.options.readerStallMs, speed: Number(speed.toFixed(3)) },
      'stream reader too slow: cut',
    );
    this.cancel(
      new GatewayError('VOX_ERR_CLIENT_CLOSED', `the client read ${speed.toFixed(2)}× real time for ${this.options.readerStallMs} ms with the buffer full`),
    );
  }

  #startMore(): void {
    // The first segment runs alone until its first audio: segments synthesised beside it would
    // share its node's CPU (or the gateway's) and delay what the listener waits for most.
    const parallel = this.#heard ? Math.max(1, this.plan.parallel) : 1;
    while (!this.signal.aborted && this.#running < parallel && this.#next < this.slots.length) {
      const index = this.#next++;
      this.#running += 1;
      void runSegment(this, index).then(
        () => this.#segmentEnded(index, undefined),
        (err: unknown) => this.#segmentEnded(index, err),
      );
    }
  }

  #segmentEnded(index: number, err: unknown): void {
    this.#running -= 1;
    const slot = this.slots[index]!;
    slot.streamingOn = undefined;
    if (err !== undefined) {
      slot.error = this.signal.aborted ? this.signal.reason : err;
      slot.notify();
      // One segment that cannot be spoken ends the response: the rest would be a gap.
      this.cancel(slot.error);
      return;
    }
    slot.done = true;
    if (index === 0) this.firstAudio();
    slot.notify();
    this.#startMore();
  }

  #dispose(): void {
    clearInterval(this.#watch);
    // Producers may still be winding down; what they hold is no longer the client's.
    if (this.signal.aborted || this.#finished) this.budget.drain();
    this.plan.deadline.removeEventListener('abort', this.#onDeadline);
  }
}
