/**
 * Labels each outcome once, from the catalogue (codes.ts): `classify` says what one upstream call
 * tells about its node (the breaker and outlier detection decide from it), `outcomeOf` how a
 * finished request is counted (access log, metrics). Neither holds a list of codes of its own.
 * @module
 */
import { ERROR_CODES, type NodeVerdict, type OutcomeClass } from './codes.ts';
import { toGatewayError } from './to-response.ts';

export type Outcome = 'success' | NodeVerdict;

/** What one upstream call's result says about the node; `undefined` is a success. */
export function classify(err: unknown): Outcome {
  if (err === undefined) return 'success';
  return ERROR_CODES[toGatewayError(err).code].node;
}

/** The outcome class a request that ended with `err` is recorded under; `undefined` is served. */
export function outcomeOf(err: unknown): OutcomeClass {
  if (err === undefined) return 'served';
  return ERROR_CODES[toGatewayError(err).code].outcome;
}
