/**
 * The clock and everything timed through it: the manual clock's timers, the request deadline, the
 * per-try timeout and shutdown's drain wait, all on manual time (no wall-clock waits).
 */
import { describe, expect, it } from 'vitest';
import { TrySignal } from '../../../gateway/src/core/try-signal.ts';
import { GatewayError } from '../../../gateway/src/errors/gateway-error.ts';
import { attemptTimeout } from '../../../gateway/src/layers/timeout/attempt-timeout.ts';
import { ManualClock, systemClock } from '../../../gateway/src/lifecycle/clock.ts';
import { waitForDrain } from '../../../gateway/src/lifecycle/shutdown.ts';
import { startDeadline } from '../../../gateway/src/request-path/admit/deadline.ts';
import type { UpstreamRequest, UpstreamResponse } from '../../../gateway/src/upstream/service.ts';

describe('ManualClock', () => {
  it('runs timers in due order, each at its own time, and never a cancelled one', () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    clock.setTimer(() => ran.push(`b@${clock.now()}`), 20);
    const cancelled = clock.setTimer(() => ran.push('never'), 15);
    clock.setTimer(() => ran.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => ran.push(`a2@${clock.now()}`), 10);
    clock.clearTimer(cancelled);
    clock.advance(15);
    expect(ran).toEqual(['a@10', 'a2@10']);
    expect(clock.now()).toBe(15);
    // a timer set by a timer, due within the same advance, runs in it
    clock.setTimer(() => clock.setTimer(() => ran.push(`c@${clock.now()}`), 1), 1);
    clock.advance(10);
    expect(ran).toEqual(['a@10', 'a2@10', 'c@17', 'b@20']);
    expect(clock.pending()).toBe(0);
  });

  it('sleeps until due, or rejects with the signal reason', async () => {
    const clock = new ManualClock(0);
    let woke = false;
    const nap = clock.sleep(50).then(() => (woke = true));
    await clock.tick(49);
    expect(woke).toBe(false);
    await clock.tick(1);
    await nap;
    expect(woke).toBe(true);
    const signal = new TrySignal();
    const cut = clock.sleep(1000, signal);
    signal.abort(new Error('stop'));
    await expect(cut).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });

  it('timeoutSignal aborts with its reason when due, never after dispose', async () => {
    const clock = new ManualClock(0);
    const s = clock.timeoutSignal(30, () => new Error('late'));
    clock.advance(29);
    expect(s.aborted).toBe(false);
    clock.advance(1);
    expect([s.aborted, (s.reason as Error).message]).toEqual([true, 'late']);
    const d = clock.timeoutSignal(30, () => new Error('late'));
    d.dispose();
    clock.advance(100);
    expect(d.aborted).toBe(false);
  });

  it('the system clock times a signal too', async () => {
    const s = systemClock.timeoutSignal(5, () => 'done');
    await new Promise<void>((resolve) => s.addEventListener('abort', resolve));
    expect(s.reason).toBe('done');
  });
});

describe('timed through the clock', () => {
  it('the request deadline aborts at its time with deadline_exceeded, and not once disposed', () => {
    const clock = new ManualClock(0);
    const d = startDeadline(300, clock);
    expect(d.at).toBe(300);
    clock.advance(299);
    expect(d.signal.aborted).toBe(false);
    clock.advance(1);
    expect((d.signal.reason as GatewayError).code).toBe('VOX_ERR_DEADLINE_EXCEEDED');
    const kept = startDeadline(300, clock);
    kept.dispose();
    clock.advance(1000);
    expect(kept.signal.aborted).toBe(false);
  });

  it('the per-try timeout aborts the try at attempt_ms, extended by the queue allowance but never past the deadline', async () => {
    const clock = new ManualClock(0);
    const deadline = startDeadline(250, clock);
    let aborted = -1;
    const layer = attemptTimeout({ attemptMs: () => 100, clock })(
      (req: UpstreamRequest) =>
        new Promise<UpstreamResponse>((_, reject) => {
          req.extendTry?.(500); // asks for 500 more: capped at the deadline (250)
          req.signal.addEventListener('abort', () => {
            aborted = clock.now();
            reject(req.signal.reason);
          });
        }),
    );
    const req = {
      traceId: 't',
      body: Buffer.alloc(0),
      route: { model: 'm', regions: ['r'] },
      textLength: 1,
      deadlineAt: deadline.at,
      deadline: deadline.signal,
      signal: deadline.signal,
      attempt: 1,
      tried: new Set<string>(),
      attempts: [],
    };
    const p = layer(req);
    p.catch(() => undefined);
    await clock.tick(249);
    expect(aborted).toBe(-1);
    await clock.tick(1);
    await expect(p).rejects.toBeInstanceOf(GatewayError);
    expect(aborted).toBe(250);
  });

  it("shutdown's drain wait polls on the clock and gives up at maxMs", async () => {
    const clock = new ManualClock(0);
    let inFlight = 2;
    let done = false;
    const drained = waitForDrain(() => inFlight, 1000, clock).then(() => (done = true));
    await clock.tick(100);
    inFlight = 0;
    await clock.tick(20);
    await drained;
    expect([done, clock.now()]).toEqual([true, 120]);
    const stuck = waitForDrain(() => 1, 1000, clock);
    const t0 = clock.now();
    for (let i = 0; i < 60 && clock.pending() > 0; i++) await clock.tick(20);
    await stuck;
    expect(clock.now() - t0).toBe(1000);
  });
});
