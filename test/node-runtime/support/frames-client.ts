/**
 * Reads a node's framed stream (protocol/frames.ts) over real HTTP the way the gateway does, and
 * records when each frame arrived, so tests can assert order, timing and the end-frame checksum.
 */
import http from 'node:http';
import { FrameDecoder, StreamChecksum, type EndFrame, type ErrorFrame } from '../../../protocol/frames.ts';

export interface StreamRead {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Audio payloads concatenated. */
  pcm: Buffer;
  audioFrames: number;
  /** Samples in each audio frame, in order. */
  frameSamples: number[];
  end: EndFrame | undefined;
  error: ErrorFrame | undefined;
  /** The body stopped without an end or error frame. */
  cut: boolean;
  checksum: StreamChecksum;
  /** Milliseconds from sending the request to headers, first audio frame and the body's end. */
  headersMs: number;
  firstAudioMs: number | undefined;
  totalMs: number;
  /** Arrival time of every audio frame, same clock. */
  audioAtMs: number[];
  /** The non-stream body (JSON error) when the status was not 200. */
  body: string;
}

export interface StreamReadOptions {
  headers?: Record<string, string>;
  /** Called for each audio frame; return true to leave (destroy the request) right there. */
  onAudio?: (index: number) => boolean;
}

export function streamSynthesis(url: string, body: Record<string, unknown>, options: StreamReadOptions = {}): Promise<StreamRead> {
  const started = performance.now();
  const payload = JSON.stringify({ stream: true, ...body });
  return new Promise<StreamRead>((resolve, reject) => {
    const req = http.request(`${url}/v1/synthesize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...options.headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const read: StreamRead = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        pcm: Buffer.alloc(0),
        audioFrames: 0,
        frameSamples: [],
        end: undefined,
        error: undefined,
        cut: false,
        checksum: new StreamChecksum(),
        headersMs: performance.now() - started,
        firstAudioMs: undefined,
        totalMs: 0,
        audioAtMs: [],
        body: '',
      };
      const audio: Buffer[] = [];
      const decoder = new FrameDecoder();
      let left = false;
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        read.totalMs = performance.now() - started;
        read.pcm = Buffer.concat(audio);
        read.cut = read.status === 200 && read.end === undefined && read.error === undefined;
        resolve(read);
      };
      res.on('data', (chunk: Buffer) => {
        if (read.status !== 200) {
          read.body += chunk.toString('utf8');
          return;
        }
        for (const frame of decoder.push(chunk)) {
          if (frame.type === 'audio') {
            const at = performance.now() - started;
            read.firstAudioMs ??= at;
            read.audioAtMs.push(at);
            audio.push(frame.pcm);
            read.checksum.add(frame.pcm);
            read.audioFrames++;
            read.frameSamples.push(frame.pcm.length / 2);
            if (options.onAudio?.(read.audioFrames - 1) && !left) {
              left = true;
              req.destroy();
              finish();
              return;
            }
          } else if (frame.type === 'end') read.end = frame.end;
          else read.error = frame.error;
        }
      });
      res.on('end', () => !left && finish());
      // A cut body surfaces as an aborted response: that is a result to assert on, not a test error.
      res.on('error', () => !left && finish());
      res.on('aborted', () => !left && finish());
    });
    req.end(payload);
  });
}

export function samplesOf(pcm: Buffer): Int16Array {
  return new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
}
