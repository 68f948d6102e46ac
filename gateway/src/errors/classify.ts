/**
 * Labels each upstream outcome once; the breaker, retry policy, outlier detection and metrics all
 * decide from this label (linkerd `http/classify`).
 * - `failure`: the node is broken or slow (connect error, reset, 5xx, per-try timeout).
 * - `overload`: the node is full or protected (queue_full, breaker open): not its fault, don't eject.
 * - `client_error`: the request was bad (4xx): never counts against a node.
 * - `cancelled`: the deadline ran out or the client left: says nothing about the node.
 * @module
 */
import { toGatewayError } from './to-response.ts';

export type Outcome = 'success' | 'failure' | 'overload' | 'client_error' | 'cancelled';

export function classify(err: unknown): Outcome {
  if (err === undefined) return 'success';
  switch (toGatewayError(err).code) {
    case 'VOX_ERR_UPSTREAM_CONNECT':
    case 'VOX_ERR_UPSTREAM_RESET':
    case 'VOX_ERR_UPSTREAM_FAILURE':
    case 'VOX_ERR_ATTEMPT_TIMEOUT':
    case 'VOX_ERR_INTERNAL':
      return 'failure';
    case 'VOX_ERR_UPSTREAM_BUSY':
    case 'VOX_ERR_BREAKER_OPEN':
    case 'VOX_ERR_BUSY':
    case 'VOX_ERR_NO_CAPACITY':
      return 'overload';
    case 'VOX_ERR_DEADLINE_EXCEEDED':
    case 'VOX_ERR_CLIENT_CLOSED':
      return 'cancelled';
    default:
      return 'client_error';
  }
}
