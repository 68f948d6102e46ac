import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/lifecycle/clock.ts';
import { waitForDrain } from '../../../gateway/src/lifecycle/shutdown.ts';
import { startDeadline } from '../../../gateway/src/request-path/admit/deadline.ts';

describe('Clock timers, driven by a manual clock', () => {
  it('fires a timer when due, once, and never after clearTimer', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.timer(100, () => fired.push('a'));
    const b = clock.timer(200, () => fired.push('b'));
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a']);
    clock.clearTimer(b);
    clock.advance(1_000);
    expect(fired).toEqual(['a']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the request deadline aborts with VOX_ERR_DEADLINE_EXCEEDED at its time, and dispose clears its timer', () => {
    const clock = new ManualClock();
    const d = startDeadline(500, clock);
    expect(d.at).toBe(clock.now() + 500);
    clock.advance(499);
    expect(d.signal.aborted).toBe(false);
    clock.advance(1);
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as { code: string }).code).toBe('VOX_ERR_DEADLINE_EXCEEDED');

    const kept = startDeadline(500, clock);
    kept.dispose();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000);
    expect(kept.signal.aborted).toBe(false);
  });

  it('shutdown drain waits on the clock and gives up at its bound', async () => {
    const clock = new ManualClock();
    let settled = false;
    const done = waitForDrain(() => 1, 100, clock, 20).then(() => (settled = true));
    for (let i = 0; i < 4; i++) {
      await Promise.resolve();
      clock.advance(20);
    }
    await Promise.resolve();
    expect(settled).toBe(false);
    for (let i = 0; i < 3; i++) {
      await Promise.resolve();
      clock.advance(20);
    }
    await done;
    expect(settled).toBe(true);
  });
});
