import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../../../gateway/src/core/traceparent.ts';
import { traceIdFrom } from '../../../gateway/src/request-path/admit/trace.ts';
import { firstValues } from '../../../gateway/src/upstream/response-head.ts';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('traceparent', () => {
  it('parses a valid header, forgiving case and surrounding space', () => {
    expect(parseTraceparent(` 00-${ID.toUpperCase()}-00F067AA0BA902B7-01 `)).toEqual({ traceId: ID, parentId: '00f067aa0ba902b7', flags: '01' });
  });

  it('refuses malformed headers, all-zero ids and version ff', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${ID}-00f067aa0ba902b7`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${ID}-${'0'.repeat(16)}-01`,
      `ff-${ID}-00f067aa0ba902b7-01`,
      `00-${'z'.repeat(32)}-00f067aa0ba902b7-01`,
    ])
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
  });

  it('formats what it parses, with a fresh span id unless given one', () => {
    const out = formatTraceparent(ID);
    expect(parseTraceparent(out)?.traceId).toBe(ID);
    expect(out).not.toBe(formatTraceparent(ID));
    expect(formatTraceparent(ID, '0000000000000001')).toBe(`00-${ID}-0000000000000001-01`);
  });

  it('the request keeps a valid trace id and gets a fresh one otherwise', () => {
    expect(traceIdFrom(`00-${ID}-00f067aa0ba902b7-01`)).toBe(ID);
    const fresh = traceIdFrom('nonsense');
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdFrom(undefined)).not.toBe(fresh);
  });
});

describe('response head', () => {
  it('keeps the first value of each header', () => {
    expect(firstValues({ a: 'x', 'set-cookie': ['1', '2'], gone: undefined })).toEqual({ a: 'x', 'set-cookie': '1' });
  });
});
