/**
 * Reads and validates the request body: JSON content type (415; `application/json` or a
 * `+json` type, never `application/json-seq`, and no charset but UTF-8), a byte cap (413
 * `body_too_large`, checked on `Content-Length` and again while reading, since chunked bodies have
 * none: RFC 9112 §6), valid UTF-8 (400 `invalid_encoding`: never replaced silently, the node
 * would refuse it), valid JSON (400 `invalid_json`), the zod schema (400 `invalid_request`).
 * A client that hangs up mid-body (FIN or RST) or breaks the chunked framing is `client_closed`
 * (client gone), never a 500.
 * Both the native and the OpenAI body end up as one `SynthesisInput`.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ownValue } from '../../config/own-names.ts';
import { GatewayError } from '../../errors/gateway-error.ts';

/** Every response format (audio/formats.ts holds the encoders for each). */
export const RESPONSE_FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export interface SynthesisInput {
  text: string;
  voice: string | undefined;
  format: ResponseFormat;
  /** `sse`: OpenAI's `speech.audio.delta` / `speech.audio.done` events instead of raw audio. */
  streamFormat?: 'audio' | 'sse';
  speed: number | undefined;
  seed: number | undefined;
  /** Style instructions (`gpt-4o-mini-tts`); passed to models that read them. */
  instructions?: string | undefined;
  /** ChatTTS: run the refine-text stage (nodes use their pack's setting when absent). */
  refineText?: boolean | undefined;
  /** ChatTTS: condition later sentences on the first one's audio (nodes use their pack's setting when absent). */
  firstSentencePrompt?: boolean | undefined;
  /** OpenAI `model` mapped to a role (tts-1-hd → primary, tts-1 → fallback). */
  role: 'primary' | 'fallback' | undefined;
}

const StreamFormatSchema = z.enum(['audio', 'sse']).optional();
const InstructionsSchema = z.string().max(4096).optional();
/** ChatTTS switches, on both bodies (OpenAI's SDKs send them as extra body fields). */
const ChatttsSwitches = { refine_text: z.boolean().optional(), first_sentence_prompt: z.boolean().optional() };

function chatttsSwitches(d: {
  refine_text?: boolean | undefined;
  first_sentence_prompt?: boolean | undefined;
}): Pick<SynthesisInput, 'refineText' | 'firstSentencePrompt'> {
  return {
    ...(d.refine_text !== undefined ? { refineText: d.refine_text } : {}),
    ...(d.first_sentence_prompt !== undefined ? { firstSentencePrompt: d.first_sentence_prompt } : {}),
  };
}

export const NativeBodySchema = z.object({
  text: z.string().refine((t) => t.trim().length > 0, 'text must not be empty'),
  voice: z.string().min(1).max(64).optional(),
  format: z.string().optional(),
  stream_format: StreamFormatSchema,
  speed: z.number().min(0.25).max(4).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  instructions: InstructionsSchema,
  ...ChatttsSwitches,
});

export const OpenAiBodySchema = z.object({
  model: z.string().min(1),
  input: z.string().refine((t) => t.trim().length > 0, 'input must not be empty'),
  /** A voice name, or (as OpenAI's custom voices) an object naming one by id. */
  voice: z.union([z.string().min(1).max(64), z.object({ id: z.string().min(1).max(64) })]),
  response_format: z.string().optional(),
  stream_format: StreamFormatSchema,
  speed: z.number().min(0.25).max(4).optional(),
  instructions: InstructionsSchema,
  ...ChatttsSwitches,
});

/** `application/json` or `application/<x>+json`, parameters allowed; `json-seq` and friends are not JSON. */
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

function checkContentType(type: string | undefined): void {
  const value = (type ?? '').trim();
  if (!JSON_TYPE.test(value)) throw new GatewayError('VOX_ERR_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  const charset = CHARSET.exec(value)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new GatewayError('VOX_ERR_UNSUPPORTED_MEDIA_TYPE', 'JSON bodies must be UTF-8');
}

function clientGone(cause: unknown): GatewayError {
  return new GatewayError('VOX_ERR_CLIENT_CLOSED', 'the client connection ended before the body was complete', { cause });
}

/** Reads the raw body with a byte cap. */
export async function readBody(req: Request, limit: number): Promise<Buffer> {
  checkContentType(req.headers.get('content-type') ?? undefined);
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw new GatewayError('VOX_ERR_BODY_TOO_LARGE', `body is over ${limit} bytes`);
  if (!req.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (err) {
      throw clientGone(err);
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new GatewayError('VOX_ERR_BODY_TOO_LARGE', `body is over ${limit} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/**
 * `readBody` for the Node request under @hono/node-server: the same checks and errors, without
 * the web Request the adapter would otherwise build per request.
 */
export async function readIncoming(req: IncomingMessage, contentType: string | undefined, limit: number): Promise<Buffer> {
  checkContentType(contentType);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw new GatewayError('VOX_ERR_BODY_TOO_LARGE', `body is over ${limit} bytes`);
  // 'data'/'end' listeners, not `for await`: the async iterator cost a generator, a promise per
  // chunk and its own stream listeners on every request (bench/results/profile.md). The
  // listeners stay on this one request, guarded by `settled`.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        // Stop keeping it, but do not destroy the socket: the 413 must be written first (the
        // caller marks the response `Connection: close`, and Node closes after writing it).
        settled = true;
        chunks.length = 0;
        reject(new GatewayError('VOX_ERR_BODY_TOO_LARGE', `body is over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // Node fails or closes the request stream only when the connection broke under it
    // ('aborted', ECONNRESET), its parser refused the framing (HPE_*), or the server's request
    // timeout cut it off: the client's doing.
    req.on('error', (err: Error) => {
      if (settled) return;
      settled = true;
      reject(clientGone(err));
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(clientGone(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
    });
  });
}

export function parseJson(raw: Buffer): unknown {
  // Checked, not decoded with `fatal`: isUtf8 is one native pass; toString stays the fast decoder.
  if (!isUtf8(raw)) throw new GatewayError('VOX_ERR_INVALID_ENCODING', 'body is not valid UTF-8');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GatewayError('VOX_ERR_INVALID_JSON', 'body is not valid JSON');
  }
}

function schemaError(error: z.ZodError): GatewayError {
  const first = error.issues[0];
  const path = first?.path.join('.') ?? '';
  return new GatewayError('VOX_ERR_INVALID_REQUEST', `${path ? `${path}: ` : ''}${first?.message ?? 'invalid request'}`, {
    ...(path ? { param: path } : {}),
  });
}

function responseFormat(value: string | undefined, def: ResponseFormat, param: string): ResponseFormat {
  const fmt = value ?? def;
  if (!(RESPONSE_FORMATS as readonly string[]).includes(fmt))
    throw new GatewayError('VOX_ERR_UNSUPPORTED_FORMAT', `${param} ${fmt} is not supported; use one of ${RESPONSE_FORMATS.join(', ')}`, { param });
  return fmt as ResponseFormat;
}

export function parseNative(json: unknown): SynthesisInput {
  const r = NativeBodySchema.safeParse(json);
  if (!r.success) throw schemaError(r.error);
  const d = r.data;
  return {
    text: d.text,
    voice: d.voice,
    format: responseFormat(d.format, 'wav', 'format'),
    streamFormat: d.stream_format ?? 'audio',
    speed: d.speed,
    seed: d.seed,
    instructions: d.instructions,
    ...chatttsSwitches(d),
    role: undefined,
  };
}

/** OpenAI's voice names: mapped to a model's voices by its `openai_voices`, else its default voice. */
export const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];

export function parseOpenAi(json: unknown, models: Record<string, 'primary' | 'fallback'>): SynthesisInput {
  const r = OpenAiBodySchema.safeParse(json);
  if (!r.success) throw schemaError(r.error);
  // Own keys only: `constructor`, `toString`, `__proto__`… are on every object.
  const role = ownValue(models, r.data.model);
  if (!role)
    throw new GatewayError('VOX_ERR_UNKNOWN_MODEL', `model ${r.data.model} does not exist; use ${Object.keys(models).join(' or ')}`, { param: 'model' });
  const d = r.data;
  return {
    text: d.input,
    voice: typeof d.voice === 'string' ? d.voice : d.voice.id,
    // OpenAI's default; `speech.mp3` examples expect it.
    format: responseFormat(d.response_format, 'mp3', 'response_format'),
    streamFormat: d.stream_format ?? 'audio',
    speed: d.speed,
    seed: undefined,
    instructions: d.instructions,
    ...chatttsSwitches(d),
    role,
  };
}
