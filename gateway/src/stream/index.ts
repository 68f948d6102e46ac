/**
 * Streaming synthesis: segments, node streams, the in-order segment run with mid-stream failover.
 * @module
 */
export * from './byte-budget.ts';
export * from './node-stream.ts';
export * from './segment-attempts.ts';
export * from './segment-run.ts';
export * from './segmenter.ts';
export * from './stream-metrics.ts';
export * from './audio-out.ts';
