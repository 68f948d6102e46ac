/**
 * Which failures may be tried again (a pure function of the outcome). Only failures that did not
 * start a response to the client: connection refused or reset, a full node (503), a failed node
 * (5xx), a per-try timeout. Never 4xx, never past the deadline.
 *
 * `reselect` marks failures where the node did no work for the request (refused connection, open
 * breaker, a full node's immediate `503 queue_full`): picking another node then adds no load
 * anywhere, so it does not spend the retry budget (Envoy's host reselection,
 * `host_selection_retry_max_attempts`). A full node is marked saturated for its Retry-After, so
 * in an overload later requests skip it without asking: reselection cannot become a storm.
 * @module
 */
import { toGatewayError } from '../../errors/to-response.ts';

export type RetryDecision = 'no' | 'retry' | 'reselect';

export function retryDecision(err: unknown): RetryDecision {
  switch (toGatewayError(err).code) {
    case 'VOX_ERR_UPSTREAM_CONNECT':
    case 'VOX_ERR_BREAKER_OPEN':
    case 'VOX_ERR_UPSTREAM_BUSY':
      return 'reselect';
    case 'VOX_ERR_UPSTREAM_RESET':
    case 'VOX_ERR_UPSTREAM_FAILURE':
    case 'VOX_ERR_ATTEMPT_TIMEOUT':
      return 'retry';
    default:
      return 'no';
  }
}
