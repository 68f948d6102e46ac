/**
 * `stream_format: "sse"` for `/v1/audio/speech`: encoded audio bytes in, OpenAI speech stream
 * events out (text/event-stream). Events are `data:` lines only, no `event:` field: the official
 * SDKs yield a data-only event as the parsed JSON, while a named event outside `response.*` /
 * `transcript.*` reaches callers in a different shape.
 *
 *   data: {"type":"speech.audio.delta","audio":"<base64>"}
 *   data: {"type":"speech.audio.done","usage":{"input_tokens":n,"output_tokens":n,"total_tokens":n}}
 *
 * The gateway's own notices (a model switch inside the response) are data-only events too, with a
 * `type` outside OpenAI's (`voxgate.*`), which clients that switch on `type` pass over:
 *
 *   data: {"type":"voxgate.model_switch","segment":k,"from":"…","to":"…","reason":"…"}
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';

export const SSE_CONTENT_TYPE = 'text/event-stream';

export interface SpeechUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface SseAudioEventsOptions {
  /**
   * The usage for the done event, asked for when the audio has ended (the caller knows what it
   * counts: characters or tokens of the input, seconds of audio). Missing counts are 0; the
   * total defaults to input + output. OpenAI's schema requires all three fields.
   */
  usage?: () => Partial<SpeechUsage>;
  /** Largest audio payload per delta event, before base64 (default 32 KiB). */
  maxDeltaBytes?: number;
}

/** The SSE stage: audio in, events out, and `announce()` for a notice between audio events. */
export interface SseAudioEvents extends Transform {
  announce(payload: { type: `voxgate.${string}` } & Record<string, unknown>): void;
}

/**
 * @example
 * pipeline(encoder, sseAudioEvents({ usage: () => ({ input_tokens: text.length }) }), res);
 */
export function sseAudioEvents(options: SseAudioEventsOptions = {}): SseAudioEvents {
  const max = options.maxDeltaBytes ?? 32 * 1024;
  if (!(max >= 3)) throw new RangeError('maxDeltaBytes must be at least 3');
  const stage = new Transform({
    writableObjectMode: false,
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      for (let at = 0; at < chunk.length; at += max) {
        this.push(event({ type: 'speech.audio.delta', audio: chunk.subarray(at, at + max).toString('base64') }));
      }
      callback();
    },
    flush(callback: TransformCallback) {
      const given = options.usage?.() ?? {};
      const input = given.input_tokens ?? 0;
      const output = given.output_tokens ?? 0;
      const usage: SpeechUsage = { input_tokens: input, output_tokens: output, total_tokens: given.total_tokens ?? input + output };
      callback(null, event({ type: 'speech.audio.done', usage }));
    },
  });
  // Pushed when announced: audio still inside an encoder thread may follow it.
  return Object.assign(stage, {
    announce(payload: { type: `voxgate.${string}` } & Record<string, unknown>) {
      if (!stage.destroyed && !stage.writableEnded) stage.push(event(payload));
    },
  });
}

function event(payload: object): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}
