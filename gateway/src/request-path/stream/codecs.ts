/**
 * The audio/ pieces one streamed response uses: the streaming resampler to the response rate,
 * the encoder of its format, and OpenAI's SSE events when it asked for them.
 * @module
 */
import { contentTypeOf, createAudioEncoder, createResampler, sseAudioEvents, SSE_CONTENT_TYPE } from '../../audio/index.ts';
import type { ResponseFormat } from '../admit/body.ts';
import type { ResponseCodecs } from './stream-answer.ts';

/**
 * @example
 * const codecs = responseCodecs('mp3', false, text.length);
 */
export function responseCodecs(format: ResponseFormat, sse: boolean, inputChars: number): ResponseCodecs {
  return {
    contentType: sse ? SSE_CONTENT_TYPE : contentTypeOf(format),
    resampler: createResampler,
    encoder: (rate) => createAudioEncoder(format, rate),
    ...(sse ? { sse: () => sseAudioEvents({ usage: () => ({ input_tokens: inputChars }) }) } : {}),
  };
}
