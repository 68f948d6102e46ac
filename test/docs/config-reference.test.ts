import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../tools/config-reference.ts';

describe('docs/configuration.md', () => {
  it('matches the zod schemas (run `npm run docs:config` after changing a schema)', () => {
    const committed = readFileSync(path.resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    expect(committed).toBe(configReference());
  });

  it('documents the keys operators reach for first', () => {
    const doc = configReference();
    for (const key of [
      'regions[].nodes[].url',
      'plans.<name>.max_text_chars',
      'retry.budget_percent',
      'outlier_detection.max_ejection_percent',
      'slots',
      'queue_limit',
      'execution.gpu_mem_limit_mb',
    ]) {
      expect(doc).toContain(`\`${key}\``);
    }
  });
});
