/**
 * TEST-ONLY clock-skew shim, loaded into a child process with
 * `NODE_OPTIONS=--import=<this file>`: it shifts the process's wall clock (Date.now, new Date())
 * so two nodes disagree about the time, like machines whose NTP drifted or stepped.
 *
 *   VOXGATE_TEST_CLOCK_OFFSET_MS      constant offset from the real clock (may be negative)
 *   VOXGATE_TEST_CLOCK_STEP_MS        an extra jump applied once…
 *   VOXGATE_TEST_CLOCK_STEP_AFTER_MS  …this long after start (an NTP step mid-run)
 *
 * Plain JavaScript on purpose: it runs before the tsx loader is registered. Monotonic time
 * (performance.now, timers) is untouched, as on a real machine whose wall clock is wrong.
 */
const offset = Number(process.env.VOXGATE_TEST_CLOCK_OFFSET_MS ?? 0);
const step = Number(process.env.VOXGATE_TEST_CLOCK_STEP_MS ?? 0);
const stepAfter = Number(process.env.VOXGATE_TEST_CLOCK_STEP_AFTER_MS ?? 0);

if (Number.isFinite(offset) && Number.isFinite(step) && (offset !== 0 || step !== 0)) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const startedAt = realNow();
  const skew = () => offset + (step !== 0 && realNow() - startedAt >= stepAfter ? step : 0);

  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + skew());
      else super(...args);
    }
    static now() {
      return realNow() + skew();
    }
  }
  globalThis.Date = SkewedDate;
  process.stderr.write(`[clock-skew shim] wall clock offset ${offset} ms, step ${step} ms after ${stepAfter} ms (test only)\n`);
}
