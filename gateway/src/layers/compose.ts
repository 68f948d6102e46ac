/**
 * Orders layers, outermost first. The gateway's own stack is built once, by stack.ts:
 * retry → attempt timeout → balance → breaker (one per endpoint) → undici pool.
 * @module
 */
import type { Layer, Service } from '../upstream/service.ts';

/**
 * @example
 * const service = compose(retry, attemptTimeout, balance, breaker)(callNode);
 */
export function compose(...layers: Layer[]): (inner: Service) => Service {
  return (inner) => layers.reduceRight<Service>((svc, layer) => layer(svc), inner);
}
