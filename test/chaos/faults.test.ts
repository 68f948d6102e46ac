/**
 * Short versions of chaos scenarios 3 (node, then region, killed under load) and 6 (broken
 * answers: mid-body resets, cut bodies, truncated WAVs, a 500 storm, a slow drip).
 */
import { describe, expect, it } from 'vitest';
import type { Profile } from './scenarios/common.ts';
import { failover } from './scenarios/s3-failover.ts';
import { brokenAnswers } from './scenarios/s6-broken-answers.ts';
import { failedChecks as failed } from './scenarios/scenario.ts';

const profile: Profile = { short: true, soakMs: 60_000 };

describe.sequential('chaos (short)', () => {
  it('3. node killed, then region killed: zero failed requests while capacity remains', async () => {
    const r = await failover(profile);
    expect(r.records.length).toBeGreaterThan(50);
    expect(failed(r)).toEqual([]);
  }, 120_000);

  it('6. resets mid-body, truncated audio, 500s, slow drip: never a success with broken audio', async () => {
    const r = await brokenAnswers(profile);
    expect(Object.values(r.figures).filter((v) => typeof v === 'number' && v > 0).length).toBeGreaterThan(3);
    expect(failed(r)).toEqual([]);
  }, 120_000);
});
