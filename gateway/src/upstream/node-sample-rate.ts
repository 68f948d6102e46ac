/**
 * Which nodes may be asked for a `sample_rate`. A node that resamples says so in `GET /v1/load`
 * (`output_sample_rates`); a node from before that field refuses unknown body fields (its schema
 * is strict), so the field is taken out of the body for it. It then answers at its engine's rate,
 * as the `x-sample-rate` header says, and the gateway resamples that audio itself.
 * @module
 */
import type { Endpoint } from './endpoints.ts';

/**
 * The body as it goes to `e`: without `sample_rate` unless `e` advertised a range that holds it.
 * @example
 * dispatch({ method: 'POST', path: '/v1/synthesize', headers, body: bodyForNode(req.body, endpoint) }, handler);
 */
export function bodyForNode(body: Buffer, e: Pick<Endpoint, 'load'>): Buffer {
  // Cheap test first: only streamed segment requests carry the field.
  if (!body.includes('"sample_rate"')) return body;
  const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const rate = parsed['sample_rate'];
  const range = e.load?.outputSampleRates;
  if (range && typeof rate === 'number' && rate >= range.min && rate <= range.max) return body;
  delete parsed['sample_rate'];
  return Buffer.from(JSON.stringify(parsed));
}
