/**
 * Reads and validates a JSON request body with a byte cap. Each failure has its own code so a
 * caller can tell "not JSON" from "JSON of the wrong shape" from "too big". A body that stops
 * arriving because the client hung up (FIN or RST), broke the chunked framing or was cut off by
 * the server's request timeout is the client's doing: it ends as client-gone, never as a 500.
 * @module
 */
import type { z } from 'zod';
import { RuntimeError } from '../errors/runtime-error.ts';
import { ClientGoneError } from '../errors/client-gone.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
    throw new RuntimeError('unsupported_media_type', 'content-type must be application/json');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new RuntimeError('body_too_large', `body exceeds ${maxBytes} bytes`);
  const bytes = await readCapped(request, maxBytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new RuntimeError('invalid_encoding', 'body is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RuntimeError('invalid_json', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new RuntimeError('invalid_request', detail.slice(0, 500));
  }
  return parsed.data;
}

/** Stops reading as soon as the cap is passed, so a 10 MB body costs at most the cap in memory. */
async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (cause) {
      // Node fails the request stream only when the connection broke under it ('aborted',
      // ECONNRESET) or its parser refused the framing (HPE_*, already answered 400 by Node).
      throw new ClientGoneError('client connection ended before the body was complete', { cause, stage: 'body' });
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RuntimeError('body_too_large', `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
