import { failover } from './scenarios/s3-failover.ts';
import { brokenAnswers } from './scenarios/s6-broken-answers.ts';
for (const f of [failover, brokenAnswers]) {
  const r = await f({ short: true, soakMs: 0 });
  console.log(r.id, r.faults.map((x) => `${x.label}@${x.startS}-${x.endS ?? ''}`).join(' | '));
  for (const x of r.records.filter((x) => x.outcome !== 'ok')) console.log(' ', (x.t / 1000).toFixed(1), x.ms, x.outcome, x.code, x.attempts, x.detail ?? '');
}
