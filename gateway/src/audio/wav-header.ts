/**
 * A WAV header for a stream whose length is not known when it starts: the RIFF and data sizes are
 * 0xFFFFFFFF, as OpenAI's streamed WAV does; decoders read until the end of the stream.
 * @module
 */

export const STREAMING_SIZE = 0xffff_ffff;

export function streamingWavHeader(sampleRate: number): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < text.length; i++) header[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, STREAMING_SIZE, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, STREAMING_SIZE, true);
  return header;
}
