/**
 * The bad-input corpus and generators for scenario 8: malformed, oversized, wrongly encoded and
 * hostile requests. Each case is either a structured request (sent with undici) or raw bytes
 * written to a socket (for what a well-behaved client cannot send: bare CRs, smuggling headers,
 * slow bodies). fast-check generates the bulk deterministically from a seed.
 * @module
 */
import fc from 'fast-check';

export interface HttpCase {
  kind: 'http';
  name: string;
  method?: string;
  path?: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface RawCase {
  kind: 'raw';
  name: string;
  /** Written in order, `gapMs` apart (a slow client), then the socket's write side stays open. */
  chunks: Buffer[];
  gapMs?: number;
  /** Close our side after the last chunk without waiting for an answer (client gone). */
  abort?: boolean;
  /** With `abort`: close with an RST (`resetAndDestroy`) instead of a FIN. */
  reset?: boolean;
}

export type HostileCase = HttpCase | RawCase;

const json = { 'content-type': 'application/json' };

function auth(key: string): Record<string, string> {
  return { ...json, authorization: `Bearer ${key}` };
}

function raw(name: string, text: string | Buffer, extra: Partial<RawCase> = {}): RawCase {
  return { kind: 'raw', name, chunks: [typeof text === 'string' ? Buffer.from(text, 'latin1') : text], ...extra };
}

function rawPost(name: string, headerLines: string[], body: Buffer | string, extra: Partial<RawCase> = {}): RawCase {
  const head = ['POST /v1/synthesize HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join('\r\n');
  return raw(name, Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]), extra);
}

/** The hand-written corpus: every case names the attack it stands for. */
export function corpus(key: string): HostileCase[] {
  const a = auth(key);
  const cases: HostileCase[] = [];
  const http = (name: string, body: string | Buffer | undefined, headers: Record<string, string> = a, extra: Partial<HttpCase> = {}) =>
    cases.push({ kind: 'http', name, headers, ...(body !== undefined ? { body } : {}), ...extra });
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

  // Encoding.
  http('invalid UTF-8 (0xff 0xfe)', bytes('{"text":"', [0xff, 0xfe], '"}'));
  http('overlong UTF-8 slash', bytes('{"text":"', [0xc0, 0xaf], '"}'));
  http('lone continuation byte', bytes('{"text":"', [0x80], 'abc"}'));
  http('truncated multibyte', bytes('{"text":"', [0xe2, 0x82], '"}'));
  http('UTF-8-encoded surrogate', bytes('{"text":"', [0xed, 0xa0, 0x80], '"}'));
  http('UTF-16LE body with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"text":"hello"}', 'utf16le')]));
  http('UTF-8 BOM before JSON', bytes([0xef, 0xbb, 0xbf], '{"text":"hello"}'));
  http('JSON lone surrogate escape', '{"text":"\\ud800 hello"}');
  http('NUL and control characters', JSON.stringify({ text: 'a\u0000b\u0001c\u001bd\u007f' }));
  http('bidi override and zero-width', JSON.stringify({ text: '\u202eevil\u200d\u200b\u2066x' }));
  http('only whitespace and controls', JSON.stringify({ text: '\u0000\t\r\n \u0007' }));
  http('emoji flood', JSON.stringify({ text: '😀'.repeat(5000) }));
  http('charset latin1 declared', '{"text":"h\u00e9llo"}', { ...a, 'content-type': 'application/json; charset=latin1' });
  // Size.
  const tenMb = 'a'.repeat(10 * 1024 * 1024);
  http('10 MB body', `{"text":"${tenMb}"}`);
  http('10 MB of whitespace', ' '.repeat(10 * 1024 * 1024) + '{"text":"hi"}');
  http('1 MB text field', JSON.stringify({ text: 'b'.repeat(1024 * 1024) }));
  http('text just over the plan limit', JSON.stringify({ text: 'c'.repeat(3001) }));
  cases.push(
    rawPost(
      'content-length lies (says 10, sends 2000)',
      ['Content-Type: application/json', `Authorization: Bearer ${key}`, 'Content-Length: 10'],
      '{"text":"' + 'd'.repeat(2000) + '"}',
    ),
  );
  cases.push(
    rawPost(
      '10 MB chunked, no content-length',
      ['Content-Type: application/json', `Authorization: Bearer ${key}`, 'Transfer-Encoding: chunked'],
      `a00000\r\n${'e'.repeat(0xa00000)}\r\n0\r\n\r\n`,
    ),
  );
  // Structure.
  http('deep array nesting', '['.repeat(100_000) + ']'.repeat(100_000));
  http('deep object nesting', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000));
  http('deep nesting inside text', `{"text":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
  http('unterminated JSON', '{"text": "hi"');
  http('trailing garbage', '{"text":"hi"} {"x":1}');
  http('JSON null', 'null');
  http('JSON array', '[{"text":"hi"}]');
  http('JSON string', '"hi"');
  http('number 1e999', '{"text":"hi","speed":1e999}');
  http('seed 2^64', '{"text":"hi","seed":18446744073709551616}');
  http('negative zero speed', '{"text":"hi","speed":-0}');
  http('duplicate keys', '{"text":"hi","text":42}');
  http('__proto__ pollution', '{"text":"hi","__proto__":{"polluted":true,"isAdmin":true}}');
  http('constructor.prototype pollution', '{"text":"hi","constructor":{"prototype":{"polluted":true}}}');
  http('empty body', '');
  http('format injection', JSON.stringify({ text: 'hi', format: '../../etc/passwd' }));
  http('voice injection', JSON.stringify({ text: 'hi', voice: '<script>alert(1)</script>' }));
  http('huge voice', JSON.stringify({ text: 'hi', voice: 'v'.repeat(100_000) }));
  http('OpenAI: wrong types', JSON.stringify({ model: 5, input: ['x'], voice: null }), a, { path: '/v1/audio/speech' });
  http('OpenAI: unknown model', JSON.stringify({ model: 'gpt-evil', input: 'hi', voice: 'alloy' }), a, { path: '/v1/audio/speech' });
  http('OpenAI: 10 MB input', JSON.stringify({ model: 'tts-1', input: tenMb, voice: 'alloy' }), a, { path: '/v1/audio/speech' });
  // Headers the gateway parses.
  for (const v of ['-1', 'NaN', '1e309', '99999999999999', ' 5000 ', '0x10', '', '5 ms'])
    http(`x-request-timeout-ms "${v}"`, JSON.stringify({ text: 'hi' }), { ...a, 'x-request-timeout-ms': v });
  for (const v of [
    'garbage',
    '00-' + 'z'.repeat(32) + '-' + '0'.repeat(16) + '-01',
    '00-' + 'f'.repeat(5000),
    'ff-00000000000000000000000000000000-0000000000000000-00',
  ])
    http(`traceparent "${v.slice(0, 30)}"`, JSON.stringify({ text: 'hi' }), { ...a, traceparent: v });
  for (const v of ['nowhere', '../north', 'ü'.repeat(3), 'r'.repeat(10_000)])
    http(`x-region "${v.slice(0, 20)}"`, JSON.stringify({ text: 'hi' }), { ...a, 'x-region': v });
  for (const v of ['Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', `bearer ${key}x`, `Bearer ${'k'.repeat(60_000)}`, 'Bearer demo-free demo-pro', `Token ${key}`])
    http(`authorization "${v.slice(0, 24)}"`, JSON.stringify({ text: 'hi' }), { ...json, authorization: v });
  http('no authorization', JSON.stringify({ text: 'hi' }), json);
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json;;;;', '*/*'])
    http(`content-type ${ct}`, JSON.stringify({ text: 'hi' }), { ...a, 'content-type': ct });
  http('no content-type', JSON.stringify({ text: 'hi' }), { authorization: `Bearer ${key}` });
  // Routes and methods.
  for (const [method, path] of [
    ['GET', '/v1/synthesize'],
    ['PUT', '/v1/synthesize'],
    ['DELETE', '/v1/status'],
    ['POST', '/v1/../admin/models/reload'],
    ['POST', '/%2e%2e/admin'],
    ['POST', '/v1/synthesize/../../etc/passwd'],
    ['GET', '/' + 'x'.repeat(60_000)],
    ['POST', '/v1/synthesize?text=hi&' + 'q=1&'.repeat(5_000)],
    ['OPTIONS', '/v1/synthesize'],
    ['TRACE', '/v1/synthesize'],
  ] as const)
    http(`${method} ${path.slice(0, 40)}`, method === 'GET' || method === 'TRACE' || method === 'OPTIONS' ? undefined : JSON.stringify({ text: 'hi' }), a, {
      method,
      path,
    });
  // Protocol level: what only a raw socket can send.
  const body = JSON.stringify({ text: 'hi' });
  const cl = `Content-Length: ${body.length}`;
  cases.push(rawPost('header injection: bare CR in a value', [`Authorization: Bearer ${key}\rX-Injected: 1`, 'Content-Type: application/json', cl], body));
  cases.push(rawPost('header injection: bare LF line ending', [`Authorization: Bearer ${key}\nX-Injected: 1`, 'Content-Type: application/json', cl], body));
  cases.push(rawPost('header with NUL', [`Authorization: Bearer ${key}\u0000`, 'Content-Type: application/json', cl], body));
  cases.push(rawPost('obs-fold continuation', [`Authorization: Bearer`, ` ${key}`, 'Content-Type: application/json', cl], body));
  cases.push(rawPost('space before colon', [`Authorization : Bearer ${key}`, 'Content-Type: application/json', cl], body));
  cases.push(rawPost('two different content-lengths', [`Authorization: Bearer ${key}`, 'Content-Type: application/json', cl, 'Content-Length: 3'], body));
  cases.push(
    rawPost(
      'smuggling: CL and TE',
      [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked'],
      `0\r\n\r\nPOST /admin HTTP/1.1\r\n\r\n`,
    ),
  );
  cases.push(rawPost('TE xchunked', [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Transfer-Encoding: xchunked'], body));
  cases.push(
    rawPost('bad chunk size', [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n'),
  );
  cases.push(rawPost('100 KB header', [`Authorization: Bearer ${key}`, `X-Big: ${'h'.repeat(100_000)}`, 'Content-Type: application/json', cl], body));
  cases.push(
    rawPost(
      '2000 headers',
      [`Authorization: Bearer ${key}`, ...Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${i}`), 'Content-Type: application/json', cl],
      body,
    ),
  );
  cases.push(
    raw(
      'absolute-form URI to another host',
      `POST http://evil.example/v1/synthesize HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${cl}\r\n\r\n${body}`,
    ),
  );
  cases.push(
    raw('HTTP/1.0 without Host', `POST /v1/synthesize HTTP/1.0\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${cl}\r\n\r\n${body}`),
  );
  cases.push(raw('HTTP/0.9 style', 'GET /\r\n\r\n'));
  cases.push(raw('unknown method', `BREW /v1/synthesize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  cases.push(raw('binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256))));
  cases.push(raw('TLS ClientHello on plain HTTP', Buffer.from('160301012c010001280303', 'hex')));
  cases.push(
    rawPost('client leaves mid-body', [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Content-Length: 5000'], '{"text":"half', {
      abort: true,
    }),
  );
  // Hostile clients that must never count as server failures, and names every object has.
  const chunked = [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'];
  cases.push(
    rawPost(
      'client leaves mid-body (content-length, RST)',
      [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Content-Length: 5000'],
      '{"text":"half',
      { abort: true, reset: true },
    ),
  );
  cases.push(rawPost('client leaves mid-body (chunked, FIN)', chunked, 'd\r\n{"text":"half\r\n', { abort: true }));
  cases.push(rawPost('client leaves mid-body (chunked, RST)', chunked, 'd\r\n{"text":"half\r\n', { abort: true, reset: true }));
  cases.push(rawPost('malformed chunk after a good one', chunked, '5\r\n{"tex\r\nzz\r\nnot-a-chunk\r\n'));
  const over = `{"text":"${'o'.repeat(80 * 1024)}"}`;
  cases.push(rawPost('chunked body over the limit (must get its 413)', chunked, `${over.length.toString(16)}\r\n${over}\r\n0\r\n\r\n`));
  http('content-type application/json-seq', JSON.stringify({ text: 'hi' }), { ...a, 'content-type': 'application/json-seq' });
  for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])
    http(`OpenAI: prototype model ${model}`, JSON.stringify({ model, input: 'hi', voice: 'alloy' }), a, { path: '/v1/audio/speech' });
  return cases;
}

/** Slow clients (slowloris): headers or body a byte at a time. */
export function slowCases(key: string, count: number, gapMs: number, bytes: number): RawCase[] {
  const out: RawCase[] = [];
  const head = `POST /v1/synthesize HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n`;
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      // Slow headers: never finishes them within the run.
      out.push({ kind: 'raw', name: 'slowloris: slow headers', chunks: [...head.slice(0, bytes)].map((c) => Buffer.from(c, 'latin1')), gapMs });
    } else {
      const body = JSON.stringify({ text: 'slow body' });
      out.push({
        kind: 'raw',
        name: 'slowloris: slow body',
        chunks: [
          Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`, 'latin1'),
          ...[...body.slice(0, Math.min(bytes, body.length - 1))].map((c) => Buffer.from(c, 'latin1')),
        ],
        gapMs,
      });
    }
  }
  return out;
}

/** Generated cases: a valid-looking request with one to three malformations applied. */
export function generated(key: string, count: number, seed: number): HttpCase[] {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.constantFrom('', ' ', '\u0000', 'x'.repeat(301)),
  );
  const weird = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant(null));
  const body = fc.record(
    {
      text: fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: weird }),
      voice: fc.oneof(fc.constantFrom('alto', 'tenor'), fc.string({ maxLength: 20 }), weird),
      format: fc.oneof(fc.constantFrom('wav', 'pcm', 'mp3', 'WAV', ''), weird),
      speed: fc.oneof(fc.double({ min: -10, max: 10 }), fc.constantFrom(0, 0.1, 100), weird),
      seed: fc.oneof(fc.integer(), fc.double(), fc.bigInt().map(String), weird),
      extra: weird,
    },
    { requiredKeys: [] },
  );
  const encoding = fc.constantFrom('json', 'json', 'json', 'truncated', 'bytes', 'form');
  const contentType = fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=utf-16', 'APPLICATION/JSON', '');
  const path = fc.constantFrom('/v1/synthesize', '/v1/synthesize', '/v1/synthesize', '/v1/audio/speech');
  const arb = fc.record({ body, encoding, contentType, path, bytes: fc.uint8Array({ maxLength: 512 }) });
  return fc.sample(arb, { numRuns: count, seed }).map((c, i) => {
    let payload: string | Buffer;
    const value: Record<string, unknown> =
      c.path === '/v1/audio/speech'
        ? { model: 'tts-1', input: c.body.text, voice: c.body.voice, response_format: c.body.format, speed: c.body.speed }
        : { ...c.body };
    switch (c.encoding) {
      case 'truncated':
        payload = JSON.stringify(value).slice(0, -1 - (i % 7));
        break;
      case 'bytes':
        payload = Buffer.from(c.bytes);
        break;
      case 'form':
        payload = new URLSearchParams(
          Object.entries(value).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]),
        ).toString();
        break;
      default:
        payload = JSON.stringify(value);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (c.contentType) headers['content-type'] = c.contentType;
    return { kind: 'http' as const, name: `generated ${c.encoding} ${c.path}`, path: c.path, headers, body: payload };
  });
}
