/**
 * `x-request-id`: a client's own id for a request, logged with it and echoed on the answer. Only
 * visible ASCII without spaces, up to 128 characters, is taken; anything else is ignored (never
 * logged or echoed), so a hostile value cannot bloat log lines or headers.
 * @module
 */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function requestIdFrom(header: string | undefined): string | undefined {
  return header !== undefined && REQUEST_ID.test(header) ? header : undefined;
}
