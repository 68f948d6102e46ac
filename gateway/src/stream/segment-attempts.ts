/**
 * One segment's synthesis, kept alive across node failures.
 *
 * Each try is one node request through the layer stack, so everything before the node's
 * headers (connect errors, full nodes, open breakers, per-try timeout to the headers) is retried
 * by the retry layer as for any request. What this file adds is the part after the headers: when
 * the node streaming the segment dies, resets, sends an error frame, stalls or drips audio slower
 * than its minimum speed (node-stream.ts), the segment is
 * resumed on another node — the same model first, in any region (`tried` keeps the dead nodes
 * out); the segment's fallback model only when no node of the model can serve it.
 *
 * How the resumed audio joins what the client already has:
 * - a deterministic pack (`x-deterministic: true`): the new node is asked for the segment with
 *   `offset_samples` = samples already delivered and the same pinned seed, so the client's
 *   stream is byte-identical to one that never failed;
 * - a non-deterministic pack, `resume: hold_segment` (default): the segment's audio is held
 *   until it is complete and only then released, so a failure before that restarts the segment
 *   elsewhere with nothing heard twice or lost (costs: time to first audio of that segment is its
 *   whole synthesis; the buffer holds one segment);
 * - a non-deterministic pack, `resume: splice`: audio is released at once; a resumed segment is
 *   synthesised again from its start with the same seed and the samples already delivered are
 *   skipped here. Numerically non-deterministic engines (GPU kernels) stay close to the first
 *   rendering, so the seam is small but not guaranteed inaudible;
 * - a switch to another model (no node of this one can serve the segment): the new model speaks
 *   the segment again from its start (a different voice cannot continue a sample offset); the
 *   switch is announced to the consumer, logged and counted, and later segments that would use
 *   the same model switch too, so a listener hears at most one change of voice.
 * @module
 */
import { OUTPUT_SAMPLE_RATE } from '../audio/formats.ts';
import type { ModelConfig } from '../config/schema.ts';
import { toGatewayError } from '../errors/to-response.ts';
import type { UpstreamResponse } from '../upstream/service.ts';
import { classify } from '../errors/classify.ts';
import { retryDecision } from '../layers/retry/retry-policy.ts';
import { headerSampleRate, readNodeStream } from './node-stream.ts';
import type { SegmentRun } from './segment-run.ts';

export type ResumeMode = 'hold_segment' | 'splice';

/**
 * No node of the model can take the segment: the catalogue's `other_model` (nothing reachable,
 * every node saturated), or — once the segment has failed mid-stream, so the client already
 * holds part of the answer — every remaining node failed it: the plan's other model is then
 * better than no end to the answer. Before any audio, failing nodes are the retry layer's to
 * judge (its budget caps the load a failing model draws; a second model's full round of tries
 * would double it).
 */
function noneCanServe(err: unknown, midStream: boolean): boolean {
  const ge = toGatewayError(err);
  return retryDecision(ge) === 'other_model' || (midStream && ge.code === 'VOX_ERR_UPSTREAM_UNAVAILABLE');
}

interface Speaker {
  model: ModelConfig;
  voice: string;
}

function nodeBody(run: SegmentRun, text: string, speaker: Speaker, offset: number): Buffer {
  const p = run.plan;
  return Buffer.from(
    JSON.stringify({
      text,
      model: speaker.model.pack ?? speaker.model.id,
      voice: speaker.voice,
      format: 'pcm',
      stream: true,
      // The node resamples to the response rate (nodes scale out; this process does not). Left
      // out for nodes that do not advertise it (upstream/node-sample-rate.ts): they answer at
      // their engine's rate and audio-out resamples.
      sample_rate: OUTPUT_SAMPLE_RATE,
      seed: p.seed,
      ...(offset > 0 ? { offset_samples: offset } : {}),
      ...(p.speed !== undefined ? { speed: p.speed } : {}),
      ...(p.instructions !== undefined ? { instructions: p.instructions } : {}),
      ...(p.refineText !== undefined ? { refine_text: p.refineText } : {}),
      ...(p.firstSentencePrompt !== undefined ? { first_sentence_prompt: p.firstSentencePrompt } : {}),
      ...(p.priority === 'batch' ? { priority: 'batch' } : {}),
    }),
  );
}

/** One node request for the segment; prefers nodes no other segment of the response streams on. */
async function call(run: SegmentRun, index: number, speaker: Speaker, offset: number, dead: ReadonlySet<string>): Promise<UpstreamResponse> {
  const spec = run.plan.segments[index]!;
  const busy = run.busyNodes(index);
  const once = (avoid: ReadonlySet<string>) =>
    run.options.service({
      traceId: run.plan.traceId,
      body: nodeBody(run, spec.text, speaker, offset),
      route: { model: speaker.model.id, pack: speaker.model.pack ?? speaker.model.id, regions: run.plan.regions },
      textLength: spec.text.length,
      deadlineAt: run.plan.deadlineAt,
      deadline: run.signal,
      signal: run.signal,
      attempt: 0,
      tried: new Set([...dead, ...avoid]),
      attempts: run.attempts,
      ...(run.plan.priority === 'batch' ? { priority: 'batch' as const } : {}),
    });
  if (busy.size === 0) return once(new Set());
  try {
    return await once(busy);
  } catch (err) {
    // Every other node was busy with this response (or down): share one.
    if (run.signal.aborted || !noneCanServe(err, dead.size > 0)) throw err;
    return once(new Set());
  }
}

/**
 * Produces segment `index` into its slot; resolves when it is complete, rejects when it cannot be.
 */
export async function runSegment(run: SegmentRun, index: number): Promise<void> {
  const spec = run.plan.segments[index]!;
  const slot = run.slots[index]!;
  const { options: o } = run;
  let speaker: Speaker = run.switchedTo.get(spec.model.id) ?? { model: spec.model, voice: spec.voice };
  /** Samples of this segment the client's stream already has (the splice point). */
  let delivered = 0;
  let deterministic: boolean | undefined;
  let resumes = 0;
  const dead = new Set<string>();
  const cache = o.segmentCache;
  if (cache && !run.switchedTo.has(spec.model.id)) {
    const hit = cache.get(speaker.model, speaker.voice, spec.text);
    if (hit) {
      deliver(run, index, speaker, { node: 'cache', region: run.plan.regions[0] ?? '' }, hit.pcm, hit.sampleRate);
      run.cachedSegments += 1;
      await run.room(index);
      return;
    }
  }
  /** What the client got of this segment, for the cache (only while one model speaks it). */
  let kept: Buffer[] | undefined = cache ? [] : undefined;
  let keptRate: number | undefined;
  for (;;) {
    if (run.signal.aborted) throw run.signal.reason;
    let res: UpstreamResponse;
    const askOffset = deterministic === true ? delivered : 0;
    try {
      res = await call(run, index, speaker, askOffset, dead);
    } catch (err) {
      const fallback = run.switchedTo.get(speaker.model.id) ?? spec.fallback;
      if (run.signal.aborted || !noneCanServe(err, resumes > 0) || !fallback || fallback.model.id === speaker.model.id) throw err;
      announceSwitch(run, index, speaker, fallback, toGatewayError(err).wire);
      kept = undefined;
      speaker = fallback;
      delivered = 0;
      deterministic = undefined;
      dead.clear();
      continue;
    }
    const node = res.node;
    const at: NodeAt = { node, region: res.region };
    slot.streamingOn = node;
    slot.headers ??= res.headers;
    const wasDeterministic = deterministic;
    deterministic = res.headers['x-deterministic'] === 'true';
    // A node of the same model that is not deterministic where its peer was cannot continue an
    // offset: treat the segment as non-deterministic from here.
    const hold = !deterministic && o.resumeMode(speaker.model) === 'hold_segment';
    let skip = askOffset > 0 ? 0 : delivered;
    if (wasDeterministic === true && !deterministic) skip = delivered;
    const sampleRate = headerSampleRate(res) ?? 0;
    if (keptRate !== undefined && keptRate !== sampleRate) kept = undefined;
    keptRate = sampleRate;
    const held: Buffer[] = [];
    let heldBytes = 0;
    const reader = readNodeStream(res, {
      gapMs: o.gapMs(spec.text.length),
      ...(o.upstreamMinSpeed ? { minSpeed: o.upstreamMinSpeed(speaker.model), speedWindowMs: o.upstreamSpeedWindowMs ?? 3_000 } : {}),
    });
    try {
      for (let r = await reader.next(); !r.done; r = await reader.next()) {
        let pcm = r.value;
        if (skip > 0) {
          const drop = Math.min(skip, pcm.length >> 1);
          skip -= drop;
          pcm = pcm.subarray(drop * 2);
          if (pcm.length === 0) continue;
        }
        if (hold) {
          held.push(pcm);
          heldBytes += pcm.length;
          run.budget.add(pcm.length);
          if (index !== run.head) await run.room(index);
          continue;
        }
        deliver(run, index, speaker, at, pcm, sampleRate);
        kept?.push(pcm);
        delivered += pcm.length >> 1;
        await run.room(index);
      }
      if (held.length > 0) {
        run.budget.take(heldBytes);
        for (const pcm of held) deliver(run, index, speaker, at, pcm, sampleRate);
        kept?.push(...held);
      }
      if (slot.nodes.length === 0) noteNode(slot, at, speaker);
      o.metrics.segments.inc({ model: speaker.model.id });
      if (kept && kept.length > 0 && sampleRate > 0) cache!.put(speaker.model, speaker.voice, spec.text, Buffer.concat(kept), sampleRate);
      return;
    } catch (err) {
      if (heldBytes > 0) run.budget.take(heldBytes);
      if (run.signal.aborted) throw run.signal.reason;
      const ge = toGatewayError(err);
      if (classify(ge) !== 'failure' || resumes >= o.maxResumes) throw err;
      resumes += 1;
      run.resumes += 1;
      // A deterministic resume continues the same rendering; anything else is a splice of two.
      if (!deterministic) kept = undefined;
      dead.add(node);
      slot.streamingOn = undefined;
      const how = deterministic ? 'offset' : hold ? 'restart_held' : 'splice';
      o.metrics.resumes.inc({ model: speaker.model.id, how });
      o.log.warn(
        { trace_id: run.plan.traceId, segment: index, node, model: speaker.model.id, delivered_samples: delivered, how, err: ge.message, code: ge.wire },
        'segment resumed after a mid-stream failure',
      );
    } finally {
      await reader.return(undefined as never).catch(() => undefined);
    }
  }
}

interface NodeAt {
  node: string;
  region: string;
}

function noteNode(slot: SegmentSlotLike, at: NodeAt, speaker: Speaker): void {
  slot.nodes.push(at.node);
  slot.regions.push(at.region);
  if (!slot.models.includes(speaker.model.id)) slot.models.push(speaker.model.id);
}

type SegmentSlotLike = SegmentRun['slots'][number];

function deliver(run: SegmentRun, index: number, speaker: Speaker, at: NodeAt, pcm: Buffer, sampleRate: number): void {
  const slot = run.slots[index]!;
  if (slot.nodes[slot.nodes.length - 1] !== at.node) noteNode(slot, at, speaker);
  run.budget.add(pcm.length);
  slot.queuedBytes += pcm.length;
  slot.push({ kind: 'audio', segment: index, pcm, sampleRate });
  if (index === 0) run.firstAudio();
}

function announceSwitch(run: SegmentRun, index: number, from: Speaker, to: Speaker, reason: string): void {
  run.switchedTo.set(from.model.id, to);
  run.switches += 1;
  run.options.metrics.modelSwitches.inc({ from: from.model.id, to: to.model.id });
  run.options.log.warn(
    { trace_id: run.plan.traceId, segment: index, from: from.model.id, to: to.model.id, reason },
    'model switched inside a streamed response',
  );
  // Not `firstAudio()`: a switch before any audio must not send the headers, or a fallback that
  // fails too (every node down) would cut a 200 instead of answering a clean 503.
  run.slots[index]!.push({ kind: 'switch', segment: index, from: from.model.id, to: to.model.id, reason });
}
