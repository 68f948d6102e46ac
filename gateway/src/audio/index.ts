/**
 * Audio encoding for responses: formats, the response sample rate, the resampler, the streaming
 * encoders and OpenAI's SSE speech events. docs/audio-formats.md has the measurements and licences.
 * @module
 */
export { AUDIO_FORMATS, OUTPUT_SAMPLE_RATE, ENCODER_BACKEND, contentTypeOf, isAudioFormat, type AudioFormat, type EncoderBackend } from './formats.ts';
export { createResampler, type Resampler } from './resampler.ts';
export { AudioEncoder, type EncodingSite } from './audio-encoder.ts';
export {
  AudioEncoding,
  assertFormatAvailable,
  closeAudioEncoding,
  createAudioEncoder,
  warmAudioEncoding,
  type AudioEncodingOptions,
} from './audio-encoding.ts';
export { EncoderPool, type EncoderPoolOptions } from './encoder-pool.ts';
export { SSE_CONTENT_TYPE, sseAudioEvents, type SpeechUsage, type SseAudioEventsOptions } from './sse-audio-events.ts';
export { streamingWavHeader } from './wav-header.ts';
