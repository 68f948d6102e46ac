import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sseAudioEvents } from '../../../gateway/src/audio/sse-audio-events.ts';

async function collect(chunks: Buffer[], options?: Parameters<typeof sseAudioEvents>[0]): Promise<string> {
  let text = '';
  for await (const part of Readable.from(chunks).pipe(sseAudioEvents(options))) text += String(part);
  return text;
}

function events(text: string): Array<Record<string, unknown>> {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n\n')
    .map((block) => {
      // data-only events: the SDKs yield these as the parsed payload.
      expect(block.startsWith('data: ')).toBe(true);
      expect(block).not.toContain('\nevent:');
      return JSON.parse(block.slice('data: '.length)) as Record<string, unknown>;
    });
}

describe('sseAudioEvents', () => {
  it('turns encoded bytes into speech.audio.delta events and ends with speech.audio.done and usage', async () => {
    const audio = [Buffer.from('ID3 first bytes'), Buffer.alloc(70_000, 7), Buffer.from([0xff, 0xfb])];
    const parsed = events(await collect(audio, { usage: () => ({ input_tokens: 12, output_tokens: 30 }) }));
    const deltas = parsed.slice(0, -1);
    for (const d of deltas) {
      expect(Object.keys(d).sort()).toEqual(['audio', 'type']);
      expect(d.type).toBe('speech.audio.delta');
    }
    // 70 000 bytes exceed one delta (32 KiB): split, never merged across writes.
    expect(deltas).toHaveLength(1 + 3 + 1);
    const decoded = Buffer.concat(deltas.map((d) => Buffer.from(d.audio as string, 'base64')));
    expect(decoded.equals(Buffer.concat(audio))).toBe(true);
    expect(parsed.at(-1)).toEqual({ type: 'speech.audio.done', usage: { input_tokens: 12, output_tokens: 30, total_tokens: 42 } });
  });

  it('still ends with done (and complete usage) when there was no audio', async () => {
    expect(events(await collect([]))).toEqual([{ type: 'speech.audio.done', usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } }]);
  });
});
