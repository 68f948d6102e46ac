/**
 * Opus in Ogg (RFC 7845) through libopus compiled to WebAssembly (`@evan/opus`). 20 ms frames,
 * 32 kb/s, complexity 6, the `audio` application. Each write becomes whole Ogg pages at once, so a client hears
 * each chunk as soon as the engine made it.
 *
 * Exact duration: OpusHead's pre-skip is the encoder's look-ahead, the stream is padded past the
 * end with silence, and the last page's granule position marks the true end, so a decoder drops
 * both the look-ahead and the padding (RFC 7845 §4.2, §4.5).
 * @module
 */
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { OggPageWriter, type OggPacket } from '../ogg-page-writer.ts';
import { concatBytes, type Codec } from './codec.ts';

interface OpusEncoder {
  bitrate: number | 'auto' | 'max';
  complexity: number;
  // The typings say `lookhead`; the implementation names it `lookahead`.
  readonly lookahead: number;
  encode(pcm: Int16Array): Uint8Array;
}
interface OpusLibrary {
  Encoder: new (options: { channels: 1 | 2; sample_rate: number; application: 'audio' | 'voip' }) => OpusEncoder;
}

export const OPUS_BITRATE = 32_000;
export const OPUS_COMPLEXITY = 6;
const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];
/** Ogg Opus granule positions always count 48 kHz samples. */
const GRANULE_RATE = 48_000;
const FRAME_MS = 20;

let library: OpusLibrary | undefined;

function opus(): OpusLibrary {
  // The WebAssembly build, always: the package's native addon crashes the process when a worker
  // thread that loaded it exits (seen at pool shutdown), and the package reads this variable
  // only at load. process.env is the worker's own copy, so the main thread is not affected.
  process.env.OPUS_FORCE_WASM = '1';
  library ??= createRequire(import.meta.url)('@evan/opus') as OpusLibrary;
  return library;
}

export async function createOpusCodec(sampleRate: number): Promise<Codec> {
  if (!OPUS_RATES.includes(sampleRate)) throw new RangeError(`opus cannot encode ${sampleRate} Hz`);
  const encoder = new (opus().Encoder)({ channels: 1, sample_rate: sampleRate, application: 'audio' });
  encoder.bitrate = OPUS_BITRATE;
  // 6, not libopus's default 10: a quarter of the CPU here (bench/audio-encoders.ts), and above 6
  // libopus spends it on analysis that speech at 32 kb/s does not audibly need.
  encoder.complexity = OPUS_COMPLEXITY;
  const scale = GRANULE_RATE / sampleRate;
  const frame = (sampleRate * FRAME_MS) / 1000;
  const lookahead = encoder.lookahead;
  const preSkip = lookahead * scale;
  const ogg = new OggPageWriter(randomInt(0, 2 ** 32));
  const pending = new Int16Array(frame);
  let pendingLength = 0;
  let inputSamples = 0;
  let encodedSamples = 0;
  let headers: Uint8Array[] | undefined = [
    ...ogg.pages([{ data: opusHead(preSkip, sampleRate), granule: 0n }]),
    ...ogg.pages([{ data: opusTags(), granule: 0n }]),
  ];

  const packet = (samples: Int16Array): OggPacket => {
    const data = encoder.encode(samples).slice(); // the addon reuses one output buffer
    encodedSamples += frame;
    // Granules count decoded samples, look-ahead included; the real audio ends at pre-skip + input.
    return { data, granule: BigInt(Math.min(encodedSamples, inputSamples + lookahead) * scale) };
  };
  const withHeaders = (pages: Uint8Array[]): Uint8Array => {
    const all = headers ? [...headers, ...pages] : pages;
    headers = undefined;
    return concatBytes(all);
  };

  return {
    encode(pcm) {
      inputSamples += pcm.length;
      const packets: OggPacket[] = [];
      let at = 0;
      if (pendingLength > 0) {
        const take = Math.min(frame - pendingLength, pcm.length);
        pending.set(pcm.subarray(0, take), pendingLength);
        pendingLength += take;
        at = take;
        if (pendingLength === frame) {
          packets.push(packet(pending));
          pendingLength = 0;
        }
      }
      for (; at + frame <= pcm.length; at += frame) packets.push(packet(pcm.subarray(at, at + frame)));
      if (at < pcm.length) {
        pending.set(pcm.subarray(at), pendingLength);
        pendingLength += pcm.length - at;
      }
      return withHeaders(packets.length > 0 ? ogg.pages(packets) : []);
    },
    finish() {
      // Encode the partial frame and enough silence to push the look-ahead's worth of real
      // samples out of the encoder; the final granule then trims the padding away.
      const packets: OggPacket[] = [];
      const target = inputSamples + lookahead;
      if (pendingLength > 0 || encodedSamples < target) {
        pending.fill(0, pendingLength);
        packets.push(packet(pending));
        pendingLength = 0;
      }
      const silence = new Int16Array(frame);
      while (encodedSamples < target) packets.push(packet(silence));
      const last = packets.at(-1);
      if (last) last.granule = BigInt(preSkip + inputSamples * scale);
      return withHeaders(ogg.pages(packets, { last: true }));
    },
    free() {
      // The addon's and the WebAssembly encoder's memory is released when the object is collected.
    },
  };
}

function opusHead(preSkip: number, inputRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'));
  head[8] = 1; // version
  head[9] = 1; // channels
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputRate, true);
  view.setInt16(16, 0, true); // output gain
  head[18] = 0; // channel mapping family 0: mono/stereo
  return head;
}

function opusTags(): Uint8Array {
  const vendor = new TextEncoder().encode('voxgate');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  const view = new DataView(tags.buffer);
  tags.set(new TextEncoder().encode('OpusTags'));
  view.setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  view.setUint32(12 + vendor.length, 0, true); // no user comments
  return tags;
}
