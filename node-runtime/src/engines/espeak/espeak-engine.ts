/**
 * The espeak engine: formant speech from the Debian `espeak-ng` program, which speaks Mandarin
 * (`cmn-latn-pinyin`), Cantonese (`yue`) and English offline. It is the project's Mandarin voice
 * when no neural model is installed: robotic but intelligible, deterministic and fast.
 *
 * espeak-ng is GPL-3.0: it runs as a separate program (espeak-process.ts), never linked. A
 * machine without it refuses the pack at load with a message naming the package; the node then
 * serves its other packs.
 *
 * Streaming: one espeak-ng child per sentence (per Latin/other run for voices with a Latin
 * voice), each sentence yielded as soon as it is spoken; at most `concurrency` children at once.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Engine, EngineContext, EngineDescription, SynthesisRequest, SynthesisResult } from '../engine.ts';
import { splitLatinRuns } from '../../text/latin-runs.ts';
import { splitSentences } from '../../text/sentences.ts';
import { ESPEAK_COMMAND, ESPEAK_INSTALL_HINT, ESPEAK_SAMPLE_RATE, espeakVersion, speakOnce } from './espeak-process.ts';
import { EspeakVoicesSchema, type EspeakVoice, type EspeakVoices } from './espeak-voices.ts';
import { ProcessSlots } from './process-slots.ts';

/** Nothing to say: no letter or digit (espeak-ng would only emit a breath of silence). */
const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * @example
 * const engine = createEspeakEngine({ pack, execution, concurrency: 2 });
 * await engine.load(); await engine.warm();
 * for await (const pcm of engine.stream({ text: '你好。', signal })) play(pcm);
 */
export function createEspeakEngine(context: EngineContext): Engine {
  const { pack } = context;
  const slots = new ProcessSlots(Math.max(1, context.concurrency ?? 1));
  let voices: EspeakVoices | undefined;
  let version: string | undefined;
  let closed = false;

  function voiceOf(name: string | undefined): EspeakVoice {
    if (!voices) throw new Error('espeak engine used before load()');
    const v = voices.voices[name ?? voices.default];
    if (!v) throw new Error(`voice ${name} is not in this pack`);
    return v;
  }

  async function* stream(request: SynthesisRequest): AsyncGenerator<Int16Array> {
    const voice = voiceOf(request.voice);
    const wordsPerMinute = Math.round(Math.min(450, Math.max(80, voices!.words_per_minute * (request.speed ?? 1))));
    // One child per sentence (at most 200 characters), so the first audio comes quickly.
    for (const sentence of splitSentences(request.text, { maxChars: 200 })) {
      const runs = voice.latin ? splitLatinRuns(sentence) : [{ latin: false, text: sentence }];
      for (const run of runs) {
        if (!SPEAKABLE.test(run.text)) continue;
        if (closed) throw new Error('espeak engine is disposed');
        const release = await slots.acquire(request.signal);
        let pcm: Int16Array;
        try {
          pcm = await speakOnce({ text: run.text, voice: run.latin ? voice.latin! : voice.voice, wordsPerMinute, signal: request.signal });
        } finally {
          release();
        }
        yield pcm;
      }
    }
  }

  return {
    async load() {
      version = espeakVersion();
      if (version === undefined)
        throw new Error(`the espeak engine needs the ${ESPEAK_COMMAND} program, which is not installed on this machine: ${ESPEAK_INSTALL_HINT}`);
      voices = EspeakVoicesSchema.parse(JSON.parse(await readFile(pack.file('voices.json'), 'utf8')));
    },

    async warm() {
      // Every espeak-ng voice the pack names speaks once, so a voice this espeak-ng build lacks
      // refuses the pack at load instead of failing a client's request.
      const signal = new AbortController().signal;
      const ids = new Set(Object.values(voices!.voices).flatMap((v) => (v.latin ? [v.voice, v.latin] : [v.voice])));
      for (const id of ids) {
        const pcm = await speakOnce({ text: 'ok', voice: id, wordsPerMinute: voices!.words_per_minute, signal });
        if (pcm.length === 0) throw new Error(`${ESPEAK_COMMAND} voice ${id} produced no audio`);
      }
    },

    async synthesize(request: SynthesisRequest): Promise<SynthesisResult> {
      const chunks: Int16Array[] = [];
      for await (const chunk of stream(request)) chunks.push(chunk);
      const pcm = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        pcm.set(c, at);
        at += c.length;
      }
      return { pcm, sampleRate: ESPEAK_SAMPLE_RATE, stats: { samples: pcm.length, utterances: chunks.length } };
    },

    stream,

    async dispose() {
      closed = true;
    },

    describe(): EngineDescription {
      return {
        kind: 'espeak',
        // Formant synthesis with no randomness: same text, voice and speed → same samples.
        deterministic: true,
        executionProvider: 'cpu',
        sampleRate: ESPEAK_SAMPLE_RATE,
        voices: pack.manifest.voices,
        details: { program: version ?? ESPEAK_COMMAND, max_processes: slots.size },
      };
    },
  };
}
