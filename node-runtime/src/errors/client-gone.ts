/**
 * The client left: it hung up while its body was arriving, broke the HTTP framing, or closed
 * the connection while its request waited or ran. Nobody is listening, so nothing is sent; the
 * access log records 499 at info level and `voxgate_node_client_gone_total` counts it, apart
 * from the failures the node itself caused (a client can then never move the 5xx rate).
 * @module
 */
export type ClientGoneStage = 'body' | 'waiting';

export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  readonly code = 'client_closed_request';
  readonly stage: ClientGoneStage;

  constructor(message: string, options: { cause?: unknown; stage?: ClientGoneStage } = {}) {
    super(message, { cause: options.cause });
    this.stage = options.stage ?? 'waiting';
  }
}
