/**
 * Node-runtime streaming figure: for 1,500 characters of English (flite, one slot, idle node),
 * the node's own time to its first audio frame against the total synthesis time of the same
 * stream, and against the one-shot answer's time to first byte (the baseline: before streaming,
 * the first byte came after the whole synthesis). Medians over a few runs, printed as ratios.
 *
 *   npx tsx bench/runtime-stream.ts     (writes bench/results/runtime-stream.json)
 * Also run at the end of bench/runtime.ts.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { streamSynthesis } from '../test/node-runtime/support/frames-client.ts';
import { REPO_ROOT, startRuntime, synthesize, waitForLog } from '../test/node-runtime/support/runtime-process.ts';

const SENTENCES = [
  'The gateway routes every request to a healthy node, and the node answers with audio.',
  'Each sentence is synthesised in turn, and its samples leave the node as soon as they exist.',
  'A listener hears the first words while the rest of the paragraph is still being computed.',
  'When a node fails in the middle of a stream, another one resumes at the same sample.',
  'Nothing in this text is special; it only has to be long enough to measure.',
];

/** About 1,500 characters, whole sentences. */
export function benchText(chars = 1500): string {
  let text = '';
  for (let i = 0; text.length < chars; i++) text += `${text ? ' ' : ''}${SENTENCES[i % SENTENCES.length]}`;
  return text;
}

export interface StreamingFigures {
  chars: number;
  runs: number;
  /** Medians, milliseconds. */
  node_first_chunk_ms: number;
  node_total_ms: number;
  client_first_audio_ms: number;
  client_total_ms: number;
  one_shot_first_byte_ms: number;
  /** node_first_chunk_ms / node_total_ms. */
  first_chunk_ratio: number;
  /** client_first_audio_ms / one_shot_first_byte_ms. */
  vs_one_shot_ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function streamingFigures(runs = Number(process.env.BENCH_STREAM_RUNS ?? 5)): Promise<StreamingFigures> {
  const text = benchText();
  const node = await startRuntime([
    '--node-id',
    'bench-stream',
    '--models-dir',
    path.join(REPO_ROOT, 'models'),
    '--models',
    'flite',
    '--slots',
    '1',
    '--queue',
    '4',
  ]);
  try {
    const nodeFirst: number[] = [];
    const nodeTotal: number[] = [];
    const clientFirst: number[] = [];
    const clientTotal: number[] = [];
    const oneShot: number[] = [];
    await (await synthesize(node.url, { text: 'Warm up.' })).arrayBuffer();
    for (let i = 0; i < runs; i++) {
      const traceId = `${(i + 1).toString(16).padStart(2, '0')}`.repeat(16);
      const read = await streamSynthesis(node.url, { text }, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      if (!read.end || !read.checksum.matches(read.end)) throw new Error('stream did not end with a matching end frame');
      const line = await waitForLog(node, (l) => l.trace_id === traceId && l.msg === 'request completed');
      if (!line) throw new Error('no access-log line for the stream');
      nodeFirst.push(Number(line.first_chunk_ms));
      // The node's total: queue + engine time; the end frame follows the last chunk at once.
      nodeTotal.push(Number(line.cost_ms));
      clientFirst.push(read.firstAudioMs!);
      clientTotal.push(read.totalMs);

      const started = performance.now();
      const res = await synthesize(node.url, { text, format: 'pcm' });
      const reader = res.body!.getReader();
      await reader.read();
      oneShot.push(performance.now() - started);
      while (!(await reader.read()).done);
      process.stdout.write(
        `  run ${i + 1}/${runs}: first chunk ${nodeFirst.at(-1)} ms of ${nodeTotal.at(-1)} ms; one-shot first byte ${oneShot.at(-1)!.toFixed(0)} ms\n`,
      );
    }
    const figures = {
      chars: text.length,
      runs,
      node_first_chunk_ms: median(nodeFirst),
      node_total_ms: median(nodeTotal),
      client_first_audio_ms: median(clientFirst),
      client_total_ms: median(clientTotal),
      one_shot_first_byte_ms: median(oneShot),
      first_chunk_ratio: 0,
      vs_one_shot_ratio: 0,
    };
    figures.first_chunk_ratio = figures.node_first_chunk_ms / figures.node_total_ms;
    figures.vs_one_shot_ratio = figures.client_first_audio_ms / figures.one_shot_first_byte_ms;
    return figures;
  } finally {
    await node.stop();
  }
}

export function printStreamingFigures(f: StreamingFigures): void {
  console.log(
    `streaming, ${f.chars} characters (flite, medians of ${f.runs}): node's first chunk ${f.node_first_chunk_ms.toFixed(0)} ms of ${f.node_total_ms.toFixed(0)} ms total ` +
      `(ratio ${f.first_chunk_ratio.toFixed(3)}); client first audio ${f.client_first_audio_ms.toFixed(0)} ms vs one-shot first byte ${f.one_shot_first_byte_ms.toFixed(0)} ms (ratio ${f.vs_one_shot_ratio.toFixed(3)})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await streamingFigures();
  printStreamingFigures(figures);
  await writeFile(path.join(REPO_ROOT, 'bench/results/runtime-stream.json'), `${JSON.stringify({ date: new Date().toISOString(), ...figures }, null, 2)}\n`);
}
