/**
 * Sorts one response into an outcome class. A 200 counts as `ok` only when its body is a
 * complete audio file: a truncated WAV delivered with status 200 is a silent failure, the
 * thing this whole proving ground exists to catch.
 * @module
 */
import { decodeWav } from '../../../node-runtime/src/audio/wav.ts';
import type { OutcomeClass } from './load-spec.ts';

export function classifyStatus(status: number): OutcomeClass {
  if (status === 429) return '429';
  if (status === 503) return '503';
  if (status === 504) return '504';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return 'ok';
}

/** Null when the body is complete audio of the declared type, else why not. */
export function audioProblem(contentType: string | undefined, declaredLength: string | undefined, body: Buffer): string | null {
  if (declaredLength !== undefined && Number(declaredLength) !== body.length) return `content-length ${declaredLength}, got ${body.length} bytes`;
  if (contentType === 'audio/pcm') return body.length > 0 && body.length % 2 === 0 ? null : `pcm body of ${body.length} bytes`;
  if (contentType !== 'audio/wav') return `content-type ${contentType ?? '(none)'}`;
  // A streamed WAV (the gateway's answers) declares its sizes 0xFFFFFFFF, as OpenAI's does: the
  // HTTP body's clean end (a cut stream is a connection error, never an end) is its length.
  if (body.length > 44 && body.toString('ascii', 36, 40) === 'data' && body.readUInt32LE(40) === 0xffffffff)
    return (body.length - 44) % 2 === 0 ? null : `streamed wav with ${body.length - 44} data bytes`;
  try {
    const wav = decodeWav(body);
    return wav.samples.length > 0 ? null : 'empty wav';
  } catch (error) {
    return (error as Error).message;
  }
}
