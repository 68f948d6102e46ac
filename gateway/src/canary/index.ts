/**
 * Canary judging: shadowed pairs are scored in worker threads, stored, and turned into a report
 * with a verdict. See docs/canary.md.
 * @module
 */
export { createCanary, type Canary, type CanaryOptions } from './canary.ts';
export { CanaryService, type Judge } from './canary-service.ts';
export {
  CanarySchema,
  CanaryJudgeSchema,
  ThresholdsSchema,
  thresholdsFor,
  type CanaryConfig,
  type CanaryJudgeConfig,
  type Thresholds,
} from '../config/canary.ts';
export type { Report, CanaryReport } from './report/report-types.ts';
