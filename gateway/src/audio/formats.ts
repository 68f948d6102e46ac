/**
 * The response formats the gateway speaks (OpenAI's `response_format` list) and the one sample
 * rate every response leaves at, whatever engine made it: flite speaks at 16 kHz (kal at 8 kHz),
 * ChatTTS at 24 kHz, and a failover between them inside one response must still be one valid
 * stream, so every engine's PCM is resampled to OUTPUT_SAMPLE_RATE before it is encoded.
 * @module
 */

export const AUDIO_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** OpenAI's rate for every format (its `pcm` is documented as 24 kHz s16le mono). */
export const OUTPUT_SAMPLE_RATE = 24_000;

/** Where a format is encoded; see docs/audio-formats.md for the measurements behind it. */
export type EncoderBackend = 'worker' | 'ffmpeg' | 'inline';

export const ENCODER_BACKEND: Readonly<Record<AudioFormat, EncoderBackend>> = {
  mp3: 'worker',
  opus: 'worker',
  flac: 'worker',
  // No npm AAC encoder runs well in Node (see docs/audio-formats.md): Debian's ffmpeg does it.
  aac: 'ffmpeg',
  // A header and a copy: cheaper than the message to a worker would be.
  wav: 'inline',
  pcm: 'inline',
};

const CONTENT_TYPES: Readonly<Record<AudioFormat, string>> = {
  mp3: 'audio/mpeg',
  // RFC 7845 §9: Ogg Opus files are audio/ogg; the codecs parameter lets players pick early.
  opus: 'audio/ogg; codecs=opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export function isAudioFormat(value: string): value is AudioFormat {
  return (AUDIO_FORMATS as readonly string[]).includes(value);
}

/**
 * @example
 * res.setHeader('content-type', contentTypeOf('mp3')); // audio/mpeg
 */
export function contentTypeOf(format: AudioFormat): string {
  return CONTENT_TYPES[format];
}
