/**
 * Continuous batching on the fused GPT graph (`gpt.fused.onnx`, node-runtime/export/gpt_fused.py):
 * BatchedGpt's scheduling, another KV layout.
 *
 * A block's KV tensors are (B, heads, capacity, headDim) with every row *left*-aligned: sequence i
 * holds its `length_i` positions at columns [0, length_i); the graph masks every column from
 * `position_ids[i, 0]` (= length_i) on, so rows of unequal length share a block and the columns past
 * a row's end are never read. A step returns only the new position's K/V (`new_key.{i}`,
 * B × S × H), written here into columns [length_i, length_i + S): the cache stays in JavaScript
 * memory and the graph reads it where it lies. `gpt.onnx` instead concatenated the whole cache in
 * the graph and returned it, and onnxruntime-node 1.30 copies every output (pre-allocated ones too):
 * two copies of the cache per step. Capacity grows in steps of CAPACITY_STEP columns; growing, like
 * a change of members, copies the members' columns into a new block.
 * @module
 */
import * as ort from 'onnxruntime-node';
import { BatchedGpt, type KvBlock, type Seq } from './batched-gpt.ts';
import { engineFailure } from './failure.ts';
import type { GptDims, GptOutput } from './gpt.ts';

const CAPACITY_STEP = 64;

export class FusedBatchedGpt extends BatchedGpt {
  private readonly newNames: string[] = [];

  constructor(session: ort.InferenceSession, dims: GptDims, maxBatch: number) {
    super(session, dims, maxBatch, ['inputs_embeds', 'position_ids']);
    for (let i = 0; i < dims.layers; i++) this.newNames.push(`new_key.${i}`, `new_value.${i}`);
    const missing = this.newNames.filter((n) => !session.outputNames.includes(n));
    if (missing.length > 0) throw new Error(`fused gpt graph lacks outputs ${missing.slice(0, 4).join(', ')}`);
  }

  protected override async prefill(seq: Seq, embeds: Float32Array, s: number): Promise<GptOutput> {
    const block = this.allocate(1, s + 1);
    block.rows = [seq];
    block.live = 1;
    const out = await this.run(block, [0], embeds, s, 'gpt prefill');
    if (seq.disposed) {
      for (const t of block.tensors) t.dispose();
    } else {
      seq.block = block;
      seq.row = 0;
      this.append(out, block, [seq], s);
      seq.length = s;
    }
    return this.take(out, [seq])[0]!;
  }

  protected override async forward(group: Seq[]): Promise<GptOutput[]> {
    const first = group[0]!.block!;
    // Members ask for their steps in any order; put them in their block's row order (in place: the
    // caller hands outputs out by this array's order) so that an unchanged set reuses its block.
    if (group.every((s) => s.block === first)) group.sort((a, b) => a.row - b.row);
    const longest = Math.max(...group.map((s) => s.length));
    const reuse = first.rows.length === group.length && longest < first.width && group.every((s, i) => s.block === first && s.row === i);
    const block = reuse ? first : this.compact(group, longest + 1);
    const embeds = new Float32Array(group.length * this.dims.hidden);
    group.forEach((s, i) => embeds.set(s.pending!.embeds, i * this.dims.hidden));
    const out = await this.run(
      block,
      group.map((s) => s.length),
      embeds,
      1,
      'gpt step',
    );
    this.stats.forwards++;
    this.stats.rows += group.length;
    this.append(out, block, group, 1);
    for (const s of group) {
      s.length++;
      // A member that left while the step ran gives its row up now (the forward held the block).
      if (s.disposed) this.detach(s);
    }
    return this.take(out, group);
  }

  private async run(block: KvBlock, lengths: number[], embeds: Float32Array, s: number, what: string) {
    const { hidden } = this.dims;
    const b = lengths.length;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', embeds, [b, s, hidden]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: b * s }, (_, k) => BigInt(lengths[Math.floor(k / s)]! + (k % s))),
        [b, s],
      ),
    };
    this.pastNames.forEach((n, i) => (feeds[n] = block.tensors[i]!));
    try {
      return await this.session.run(feeds);
    } catch (error) {
      throw engineFailure(what, error);
    }
  }

  /** Writes each row's new K/V (B × S × heads·headDim) into columns [length, length + S) of its row. */
  private append(out: ort.InferenceSession.OnnxValueMapType, block: KvBlock, group: Seq[], s: number): void {
    const { heads, headDim } = this.dims;
    const cap = block.width;
    this.newNames.forEach((name, k) => {
      const src = (out[name] as ort.Tensor).data as Float32Array;
      const dst = block.tensors[k]!.data as Float32Array;
      group.forEach((seq, r) => {
        for (let t = 0; t < s; t++) {
          for (let h = 0; h < heads; h++) {
            const from = ((r * s + t) * heads + h) * headDim;
            dst.set(src.subarray(from, from + headDim), ((r * heads + h) * cap + seq.length + t) * headDim);
          }
        }
      });
      (out[name] as ort.Tensor).dispose();
    });
  }

  private allocate(rows: number, columns: number): KvBlock {
    const { heads, headDim } = this.dims;
    const width = Math.ceil(columns / CAPACITY_STEP) * CAPACITY_STEP;
    const tensors = this.pastNames.map(() => new ort.Tensor('float32', new Float32Array(rows * heads * width * headDim), [rows, heads, width, headDim]));
    return { tensors, width, rows: [], live: 0 };
  }

  /** Copies the group's columns into a new block of at least `columns` capacity. */
  private compact(group: Seq[], columns: number): KvBlock {
    this.stats.rebuilds++;
    const { heads, headDim } = this.dims;
    const block = this.allocate(group.length, columns);
    this.pastNames.forEach((_, k) => {
      const dst = block.tensors[k]!.data as Float32Array;
      group.forEach((s, i) => {
        const src = s.block!.tensors[k]!.data as Float32Array;
        const sw = s.block!.width;
        for (let h = 0; h < heads; h++) {
          const from = (s.row * heads + h) * sw * headDim;
          dst.set(src.subarray(from, from + s.length * headDim), (i * heads + h) * block.width * headDim);
        }
      });
    });
    block.rows = [...group];
    block.live = group.length;
    group.forEach((s, i) => {
      this.detach(s);
      s.block = block;
      s.row = i;
    });
    return block;
  }
}
