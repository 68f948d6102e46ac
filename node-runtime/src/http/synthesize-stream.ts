/**
 * The streaming answer of `POST /v1/synthesize` (`"stream": true`): the engine's chunks, past
 * `offset_samples` (counted at the delivered rate: the engine's audio is resampled first when the
 * request asked for another `sample_rate`), written as frames by frame-stream.ts straight to the socket, with the slot
 * held exactly as long as the engine works. The handler returns only when the stream is over,
 * so the access log line carries how it ended.
 * @module
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { resampleChunks } from '../audio/sample-rate.ts';
import { writeFrameStream } from './frame-stream.ts';
import { skipSamples } from './sample-offset.ts';
import { recordCompute, servedByHeaders, type Admitted } from './synthesis-answer.ts';

export async function answerStream(a: Admitted): Promise<Response> {
  const { c, request, slot } = a;
  const log = c.get('log');
  // Resampled before the offset is skipped: the resampler does not depend on chunking, so the
  // samples past the offset are the ones an uninterrupted stream at this rate delivered there.
  const delivered = resampleChunks(a.engine.stream(request), a.engineSampleRate, a.sampleRate);
  const chunks = a.offsetSamples > 0 ? skipSamples(delivered, a.offsetSamples) : delivered;
  let result;
  try {
    result = await writeFrameStream({
      response: c.env.outgoing,
      headers: { ...servedByHeaders(a), 'x-offset-samples': String(a.offsetSamples) },
      chunks,
      sampleRate: a.sampleRate,
      signal: request.signal,
    });
  } finally {
    slot.release();
  }
  // Only a finished stream says how much audio the engine made (skipped samples included).
  if (result.outcome === 'complete') recordCompute(a, result.engineMs, a.offsetSamples + result.samples);
  else log.compute_ms = Math.round(result.engineMs);
  log.stream_outcome = result.outcome;
  log.chunks = result.chunks;
  log.samples = result.samples;
  if (result.firstChunkMs !== undefined) log.first_chunk_ms = Math.round(result.firstChunkMs);
  if (result.outcome !== 'complete') {
    log.error_code = result.errorCode ?? codeOf(result.error) ?? result.outcome;
    if (result.errorCode === 'internal') log.error_detail = result.error instanceof Error ? result.error.message : String(result.error);
  }
  return RESPONSE_ALREADY_SENT;
}

/** An engine asked for the connection to drop (a simulated crash) before any header went out. */
export function connectionDropped(a: Admitted, error: unknown): Response {
  a.c.get('log').error_code = codeOf(error) ?? 'stream_cut';
  a.c.env.outgoing.destroy();
  return RESPONSE_ALREADY_SENT;
}

function codeOf(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
