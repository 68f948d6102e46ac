/**
 * The streaming resampler lives in protocol/ because nodes run it too (they answer at the rate a
 * request asks for); the gateway's audio code keeps importing it from here.
 * @module
 */
export { createResampler, type Resampler } from '../../../protocol/resampler.ts';
