/**
 * Request bodies the load generators cycle through. The gateway's shadow sampler is
 * deterministic by text hash (request-path/shadow/sampler.ts), so a single repeated text would be
 * mirrored always or never; this set holds 100 texts of which exactly `round(100 × rate)` fall
 * under the sample rate, so "5 % shadow" really mirrors 5 % of requests.
 * @module
 */
import { sampled } from '../../gateway/src/canary/mirror/sampler.ts';

export function benchTexts(count = 100, rate = 0.05): string[] {
  const want = Math.round(count * rate);
  const inSample: string[] = [];
  const outSample: string[] = [];
  for (let i = 0; (inSample.length < want || outSample.length < count - want) && i < 100_000; i++) {
    const text = `Benchmark sentence number ${i}: the gateway forwards this text to a node.`;
    if (sampled(text, rate)) {
      if (inSample.length < want) inSample.push(text);
    } else if (outSample.length < count - want) outSample.push(text);
  }
  // Spread the sampled texts evenly through the cycle.
  const out: string[] = [];
  const every = Math.floor(count / Math.max(1, want));
  for (let i = 0, a = 0, b = 0; i < count; i++) out.push(want > 0 && i % every === 0 && a < want ? inSample[a++]! : (outSample[b++] ?? inSample[a++]!));
  return out;
}

export function benchBodies(count = 100, rate = 0.05): string[] {
  return benchTexts(count, rate).map((text) => JSON.stringify({ text, voice: 'alto', format: 'wav' }));
}
