/**
 * Which failures may be tried again: the catalogue's `retry` column (errors/codes.ts). Only
 * failures that did not start a response to the client are retried: connection refused or reset,
 * a full node (503), a failed node (5xx), a per-try timeout. Never 4xx, never past the deadline.
 *
 * `reselect` marks failures where the node did no work for the request (refused connection, open
 * breaker, a full node's immediate `503 queue_full`): picking another node then adds no load
 * anywhere, so it does not spend the retry budget (Envoy's host reselection,
 * `host_selection_retry_max_attempts`). A full node is marked saturated for its Retry-After, so
 * in an overload later requests skip it without asking: reselection cannot become a storm.
 * `other_model` is not for this layer: dispatch tries the plan's other model once.
 * @module
 */
import { ERROR_CODES, type RetryDecision } from '../../errors/codes.ts';
import { toGatewayError } from '../../errors/to-response.ts';

export type { RetryDecision };

export function retryDecision(err: unknown): RetryDecision {
  return ERROR_CODES[toGatewayError(err).code].retry;
}
